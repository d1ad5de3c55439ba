"""How a client finds its bridge, and what it says when it cannot."""

import os
import subprocess
import sys

import pytest

from executorlab.tests.conftest import REPO

SUBMIT = "from executorlab import SingleNodeExecutor\nSingleNodeExecutor()\n"


def run(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("EXECUTORLAB_CONNECTION_FILE", "EXECUTORLAB_NODE")}
    return subprocess.run([sys.executable, "-c", SUBMIT], env={**base, "PYTHONPATH": str(REPO), **env},
                          capture_output=True, text=True, timeout=60)


def test_missing_node_is_named_with_the_fix():
    done = run({"PATH": "/nonexistent"})
    assert done.returncode == 1
    assert "BridgeConnectionError" in done.stderr and "`node` is not on PATH" in done.stderr
    assert "install Node.js 20" in done.stderr and "EXECUTORLAB_NODE" in done.stderr


def test_wrong_node_path_is_named():
    done = run({"EXECUTORLAB_NODE": "/opt/no/node"})
    assert done.returncode == 1 and "EXECUTORLAB_NODE='/opt/no/node' is not an executable" in done.stderr


def test_connection_file_without_a_bridge_fails_with_a_timeout_message(tmp_path):
    from executorlab.client import bridge_process
    from executorlab.errors import BridgeConnectionError

    missing = tmp_path / "executorlab-bridge-1.json"
    with pytest.raises(BridgeConnectionError, match="within"):
        bridge_process.wait_for_connection_file(str(missing), 0.3)


def _add(a, b):
    return a + b


def test_a_process_follows_a_changed_connection_file_to_its_bridge(tmp_path, monkeypatch):
    """A process that used one bridge (here a private one) and is then pointed at another with
    EXECUTORLAB_CONNECTION_FILE sends its next calls there, not to the bridge it knew, which still runs."""
    from executorlab import SingleNodeExecutor
    from executorlab.tests.conftest import StandaloneBridge

    with SingleNodeExecutor() as exe:
        assert exe.submit(_add, 1, 2).result(timeout=60) == 3
    bridge = StandaloneBridge(tmp_path)
    try:
        monkeypatch.setenv("EXECUTORLAB_CONNECTION_FILE", str(bridge.connection_file))
        with SingleNodeExecutor() as exe:
            assert exe.submit(_add, 2, 3).result(timeout=60) == 5
        assert [t["state"] for t in bridge.tasks("_add")] == ["done"], "the call went to the named bridge"
    finally:
        bridge.stop()
