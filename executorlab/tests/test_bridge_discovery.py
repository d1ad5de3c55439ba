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
