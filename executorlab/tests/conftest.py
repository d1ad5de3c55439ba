import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import zmq

from executorlab.client.bridge_process import stop_process

REPO = Path(__file__).resolve().parents[2]
BRIDGE = REPO / "executorlab" / "bridge" / "bridge.mjs"

# OpenMPI refuses root without these; CI and this machine run as root.
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")


def pytest_sessionstart(session):
    if not BRIDGE.exists():
        pytest.exit(f"{BRIDGE} is missing: run `npm run build` first (the README's test command does)", returncode=1)


@pytest.fixture(autouse=True)
def no_inherited_bridge(monkeypatch, tmp_path):
    """Each test decides itself whether it talks to a server's bridge or starts a private one; bridges it
    starts keep their cache-browser index under the test's folder, not in ~/.cache."""
    monkeypatch.delenv("EXECUTORLAB_CONNECTION_FILE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterServer:
    """A real jupyter_server with the executorlab server extension, on a free port with a token."""

    def __init__(self, tmp_path: Path, base_url: str = "/"):
        self.port = free_port()
        self.base_url = base_url
        self.token = secrets.token_hex(16)
        self.runtime_dir = tmp_path / "runtime"
        self.url = f"http://127.0.0.1:{self.port}{base_url.rstrip('/')}"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "JUPYTER_RUNTIME_DIR": str(self.runtime_dir),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_NO_CONFIG": "1",
        }
        self.log = open(tmp_path / "server.log", "wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
                f"--port={self.port}", f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={tmp_path}",
                "--ServerApp.jpserver_extensions={'executorlab': True}", f"--ServerApp.base_url={base_url}",
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self.connection_file = self.runtime_dir / f"executorlab-bridge-{self.process.pid}.json"

    def get(self, path: str, token: bool = True):
        request = urllib.request.Request(f"{self.url}/{path}")
        if token:
            request.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None

    def wait_until(self, predicate, timeout: float, what: str, allow_exit: bool = False):
        def check():
            if self.process.poll() is not None and not allow_exit:
                raise AssertionError(f"jupyter server exited with {self.process.returncode} while waiting for {what}")
            return predicate()

        return wait_for(check, timeout, what)

    def bridge_status(self):
        try:
            code, body = self.get("executorlab/api/status")
        except OSError:
            return None
        return body if code == 200 else None

    def stop(self):
        stop_process(self.process, grace=20)
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def jupyter_server(tmp_path):
    server = JupyterServer(tmp_path)
    try:
        server.wait_until(server.bridge_status, 60, "the bridge behind the server extension")
        yield server
    finally:
        server.stop()


def run_client(code: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run client code in a fresh Python process, as a kernel or a script would."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True, text=True, timeout=timeout,
    )


class StandaloneBridge:
    """A bridge process of its own, as the server extension would run it, for kernels in subprocesses."""

    def __init__(self, tmp_path: Path, *args: str):
        from executorlab.client import bridge_process

        self.connection_file = tmp_path / "bridge.json"
        self.process = subprocess.Popen(
            bridge_process.bridge_command(str(self.connection_file), *args),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "bridge.log", "wb"),
        )
        self.info = bridge_process.wait_for_connection_file(str(self.connection_file), 30, self.process)
        self.env = {"EXECUTORLAB_CONNECTION_FILE": str(self.connection_file)}

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.info['http_url']}{path}", method=method)
        request.add_header("Authorization", f"token {self.info['token']}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def tasks(self, fn_name=None) -> list:
        tasks = self.api("/api/tasks")[1]["tasks"]
        return [t for t in tasks if fn_name is None or t["fn_name"] == fn_name]

    def stop(self):
        stop_process(self.process, grace=20)


@pytest.fixture
def standalone_bridge(tmp_path):
    bridge = StandaloneBridge(tmp_path, "--client-timeout", "2")
    yield bridge
    bridge.stop()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def queue_id(cache: Path, pattern: str) -> int:
    """The batch job id recorded in the first `<key>_i.h5` matching pattern in a cluster executor's cache."""
    from executorlab.cache.hdf import get_queue_id

    files = sorted(cache.glob(pattern))
    assert files, f"no {pattern} in {sorted(p.name for p in cache.iterdir())}"
    return get_queue_id(str(files[0]))


def raw_client_socket(info: dict, timeout_ms: int = 10000):
    """(context, DEALER) connected to a bridge's kernel endpoint with the kernels' CURVE keys, for tests
    that send hand-made messages."""
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.curve_serverkey = info["server_public_key"].encode()
    socket.curve_publickey = info["client_public_key"].encode()
    socket.curve_secretkey = info["client_secret_key"].encode()
    socket.setsockopt(zmq.RCVTIMEO, timeout_ms)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(info["client_endpoint"])
    return context, socket


from executorlab.tests.slurm import slurm  # noqa: E402,F401  (the session's single-node SLURM fixture)
from executorlab.tests.flux import flux, flux_instance  # noqa: E402,F401  (the session's 2-broker flux instance)
from executorlab.tests.slurm_multi import _slurm_multi_conf, slurm_multi  # noqa: E402,F401  (the session's 2-node SLURM)
