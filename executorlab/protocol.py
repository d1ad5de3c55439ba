"""The wire format shared with the bridge (kernel-bridge/src/protocol/messages.ts is the definition)."""

import json

PROTOCOL_VERSION = 1


def encode(message: dict) -> bytes:
    return json.dumps({"v": PROTOCOL_VERSION, **message}, separators=(",", ":")).encode("utf-8")


def decode(frame: bytes) -> dict:
    message = json.loads(frame.decode("utf-8"))
    if not isinstance(message, dict) or message.get("v") != PROTOCOL_VERSION:
        raise ValueError(f"not an executorlab v{PROTOCOL_VERSION} message: {frame[:200]!r}")
    return message
