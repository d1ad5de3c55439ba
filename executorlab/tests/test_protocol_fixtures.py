"""The protocol fixtures the bridge's tests decode are the messages this package writes and reads."""

import json
from pathlib import Path

import pytest

from executorlab.protocol import PROTOCOL_VERSION, decode, encode

FIXTURES = Path(__file__).resolve().parents[2] / "kernel-bridge" / "fixtures" / "protocol"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_fixture_decodes(path):
    message = decode(path.read_bytes())
    assert message["v"] == PROTOCOL_VERSION and isinstance(message["type"], str)


def test_encode_round_trips_a_submit_fixture():
    fixture = json.loads((FIXTURES / "submit.json").read_text())
    body = {k: v for k, v in fixture.items() if k != "v"}
    assert decode(encode(body)) == fixture


def test_decode_refuses_other_versions():
    with pytest.raises(ValueError, match="v1"):
        decode(b'{"v": 2, "type": "hello"}')
