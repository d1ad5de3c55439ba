"""Where the bridge is: the connection file named by the server extension, or a private bridge."""

import atexit
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from executorlab.errors import BridgeConnectionError

CONNECTION_FILE_ENV = "EXECUTORLAB_CONNECTION_FILE"
NODE_ENV = "EXECUTORLAB_NODE"
BRIDGE_SCRIPT = Path(__file__).resolve().parent.parent / "bridge" / "bridge.mjs"
# The young generation (semi-space) is a trade: at 2 MB the scavenges that copy the calls in flight cost
# 17 µs per call at 10k calls/s, at 16 MB the bridge holds 151 MB after 100,000 calls. 8 MB: ~130 MB and
# the full throughput (bench/throughput.py, bench/bridge_memory.py). The old-space cap is a GC trigger
# far above the live heap (~1 KB per kept task record).
NODE_FLAGS = ("--max-semi-space-size=8", "--max-old-space-size=512")


def node_executable() -> str:
    configured = os.environ.get(NODE_ENV)
    node = shutil.which(configured) if configured else shutil.which("node")
    if not node:
        where = f"{NODE_ENV}={configured!r} is not an executable" if configured else "`node` is not on PATH"
        raise BridgeConnectionError(
            f"Node.js is needed to run the executorlab bridge but {where}; install Node.js 20 "
            f"(Debian: apt-get install nodejs) or set {NODE_ENV} to the path of `node`"
        )
    return node


def bridge_command(connection_file: str, *extra: str) -> list:
    if not BRIDGE_SCRIPT.exists():
        raise BridgeConnectionError(
            f"the executorlab bridge is not built ({BRIDGE_SCRIPT} is missing); run `npm ci && npm run build` "
            "in the executorlab checkout, or install the executorlab package"
        )
    return [node_executable(), *NODE_FLAGS, str(BRIDGE_SCRIPT), "--connection-file", connection_file, *extra]


def stop_process(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def pid_alive(pid: int) -> bool:
    """Whether the process runs; a zombie (dead, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): kill() said it exists


def read_connection_file(path: str):
    """The bridge's connection info, or None when the file is absent, half-written or its bridge is dead."""
    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("version") != 1 or not pid_alive(int(info.get("pid", 0))):
        return None
    return info


def _log_tail(path, lines: int = 15) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except (OSError, TypeError):
        return ""


def wait_for_connection_file(path: str, timeout: float, process=None, log_path=None) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = read_connection_file(path)
        if info is not None:
            return info
        if process is not None and process.poll() is not None:
            raise BridgeConnectionError(
                f"the private executorlab bridge exited with code {process.returncode}:\n{_log_tail(log_path)}"
            )
        time.sleep(0.05)
    raise BridgeConnectionError(f"no running executorlab bridge announced itself in {path} within {timeout:.0f} s")


class PrivateBridge:
    """A bridge started for this Python process alone (a plain script, no Jupyter server)."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="executorlab-")
        self.connection_file = os.path.join(self.directory, "bridge.json")
        self.log_path = os.path.join(self.directory, "bridge.log")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                bridge_command(self.connection_file, "--exit-with-parent", str(os.getpid())),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        atexit.register(self.stop)

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


_private = None


def locate_bridge(timeout: float = 30.0) -> dict:
    """Connection info of the bridge this process should use, starting a private one if needed."""
    global _private
    path = os.environ.get(CONNECTION_FILE_ENV)
    if path:
        # The server extension restarts a dead bridge within seconds: wait for it rather than fail.
        return wait_for_connection_file(path, timeout)
    if _private is None or _private.process.poll() is not None:
        _private = PrivateBridge()
    return wait_for_connection_file(_private.connection_file, timeout, _private.process, _private.log_path)
