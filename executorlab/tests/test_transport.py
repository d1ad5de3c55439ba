"""How kernels and workers reach the bridge: IPC in a private directory on its host, TCP with CURVE
elsewhere, and the kernel's send-only socket. Against a real bridge."""

import json
import os
import stat
import subprocess
import sys

import pytest
import zmq

from executorlab import SingleNodeExecutor, transport
from executorlab.client import connection
from executorlab.client.connection import BridgeClient
from executorlab.protocol import encode, unbatch
from executorlab.tests.conftest import REPO, StandaloneBridge, raw_client_socket, run_client, wait_for


def worker_pid():
    return os.getpid()


def tcp_connections_to(pid: int, port: int) -> int:
    """How many TCP connections process `pid` holds to `port` on this host (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                    count += 1
    return count


def ipc_path(info: dict, key: str) -> str:
    assert info[key].startswith("ipc://"), info[key]
    return info[key][len("ipc://") :]


def test_endpoint_for_picks_ipc_only_on_the_bridges_host_when_the_socket_exists(tmp_path):
    socket_file = tmp_path / "clients"
    socket_file.touch()
    info = {
        "hostname": os.uname().nodename,
        "client_endpoint": "tcp://127.0.0.1:5555",
        "client_ipc_endpoint": f"ipc://{socket_file}",
    }
    assert transport.endpoint_for(info, "client_endpoint", "client_ipc_endpoint") == f"ipc://{socket_file}"
    elsewhere = {**info, "hostname": "another-node"}
    assert transport.endpoint_for(elsewhere, "client_endpoint", "client_ipc_endpoint") == "tcp://127.0.0.1:5555"
    socket_file.unlink()
    assert transport.endpoint_for(info, "client_endpoint", "client_ipc_endpoint") == "tcp://127.0.0.1:5555"


def test_sockets_live_in_a_private_directory_that_stop_removes(tmp_path):
    bridge = StandaloneBridge(tmp_path)
    try:
        info = bridge.info
        assert info["hostname"] == os.uname().nodename
        directory = os.path.dirname(ipc_path(info, "client_ipc_endpoint"))
        worker_credentials = tmp_path / "bridge-worker.json"
        worker_info = json.loads(worker_credentials.read_text())
        assert os.path.dirname(ipc_path(worker_info, "worker_ipc_endpoint")) == directory
        assert worker_info["worker_endpoint"].startswith("tcp://")
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        assert stat.S_ISSOCK(os.stat(ipc_path(info, "client_ipc_endpoint")).st_mode)
    finally:
        bridge.stop()
    assert not os.path.exists(directory), "the bridge left its socket directory behind"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to try the socket as another user (nobody)")
def test_another_user_cannot_connect_to_the_ipc_socket(standalone_bridge):
    """Without CURVE on IPC, the directory's mode is the lock: user nobody gets no answer."""
    code = f"""
import os, sys, zmq
os.setgid(65534); os.setuid(65534)
s = zmq.Context().socket(zmq.DEALER)
s.setsockopt(zmq.RCVTIMEO, 2000); s.setsockopt(zmq.LINGER, 0)
s.connect({standalone_bridge.info["client_ipc_endpoint"]!r})
s.send(b'{{"v":1,"type":"hello","client_id":"intruder","pid":1,"python":"x","kernel_id":null,"pythonpath":[]}}')
try:
    s.recv()
except zmq.Again:
    print("no answer")
else:
    print("answered")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "no answer", result.stdout + result.stderr


def test_a_kernel_elsewhere_uses_tcp_with_curve_end_to_end(standalone_bridge, monkeypatch):
    """A kernel on another host (as the connection file tells it) goes over TCP with CURVE, both sockets."""
    info = {**standalone_bridge.info, "hostname": "another-node"}
    client = BridgeClient(info, str(standalone_bridge.connection_file))
    monkeypatch.setenv("EXECUTORLAB_CONNECTION_FILE", str(standalone_bridge.connection_file))
    monkeypatch.setattr(connection, "_client", client)
    try:
        with SingleNodeExecutor(max_workers=1, block_allocation=True) as executor:
            assert executor.submit(sum, [1, 2]).result(timeout=60) == 3
            assert [f.result(timeout=60) for f in [executor.submit(sum, [i, i]) for i in range(50)]] == [
                2 * i for i in range(50)
            ]
        assert tcp_connections_to(os.getpid(), int(info["client_endpoint"].rsplit(":", 1)[1])) == 2
        assert client._sender.getsockopt(zmq.LAST_ENDPOINT).decode().startswith("tcp://")
    finally:
        client.close()


def test_local_kernels_and_workers_use_ipc(standalone_bridge, tmp_path):
    worker_port = int(json.loads((tmp_path / "bridge-worker.json").read_text())["worker_endpoint"].rsplit(":", 1)[1])
    client_port = int(standalone_bridge.info["client_endpoint"].rsplit(":", 1)[1])
    code = f"""
import os, zmq
from executorlab import SingleNodeExecutor
from executorlab.client.connection import get_client
from executorlab.tests.test_transport import tcp_connections_to, worker_pid
with SingleNodeExecutor(max_workers=1, block_allocation=True) as ex:
    pid = ex.submit(worker_pid).result(timeout=60)
    print(get_client()._sender.getsockopt(zmq.LAST_ENDPOINT).decode())
    print(tcp_connections_to(os.getpid(), {client_port}), tcp_connections_to(pid, {worker_port}))
"""
    result = run_client(code, standalone_bridge.env)
    assert result.returncode == 0, result.stderr
    endpoint, kernel_tcp, worker_tcp = result.stdout.split()
    assert endpoint == standalone_bridge.info["client_ipc_endpoint"]
    assert (kernel_tcp, worker_tcp) == ("0", "0"), "kernel and worker on the bridge's host must not use TCP"


def test_attach_for_a_client_that_never_said_hello_is_refused(standalone_bridge):
    context, socket = raw_client_socket(standalone_bridge.info, timeout_ms=5000)
    try:
        socket.send(encode({"type": "attach", "client_id": "k-nobody"}))
        [(message, _)] = unbatch(socket.recv_multipart())
        assert message["type"] == "error"
        assert "attach to k-nobody, which did not say hello" in message["message"]
    finally:
        socket.close()
        context.term()


def test_a_bad_request_on_the_send_only_socket_is_answered_where_the_kernel_listens(standalone_bridge, monkeypatch):
    """A header the bridge refuses names its request id: the caller gets the ValueError, it never hangs."""
    client = BridgeClient(standalone_bridge.info, str(standalone_bridge.connection_file))
    try:
        with pytest.raises(ValueError, match="max_workers"):
            client.request({"type": "resize_executor", "executor_id": "e-1", "max_workers": 0}, timeout=10)
        with pytest.raises(ValueError, match="unknown executor"):
            client.request({"type": "validate_resources", "executor_id": "e-none", "resource_dict": {}}, timeout=10)
    finally:
        client.close()
