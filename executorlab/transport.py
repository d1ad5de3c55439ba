"""How kernels and workers reach the bridge: IPC on the bridge's own host, TCP with CURVE elsewhere.

The IPC socket lives in a directory only the bridge's user can enter (mode 0700), which keeps other
users out as the 0600 key files do for TCP; without CURVE and TCP a round trip is ~80 µs faster.
"""

import os
import socket as _socket

import zmq


def _ipc_path(endpoint: str):
    return endpoint[len("ipc://") :] if endpoint and endpoint.startswith("ipc://") else None


def endpoint_for(info: dict, tcp_key: str, ipc_key: str) -> str:
    """The endpoint to connect to: the IPC one when it is on this host and exists, else TCP."""
    # TCP with CURVE even on the bridge's host: how workers on other nodes connect (tests force it so).
    if os.environ.get("EXECUTORLAB_TRANSPORT") == "tcp":
        return info[tcp_key]
    path = _ipc_path(info.get(ipc_key))
    if path and info.get("hostname") == _socket.gethostname() and os.path.exists(path):
        return info[ipc_key]
    return info[tcp_key]


def connect(socket: zmq.Socket, info: dict, tcp_key: str, ipc_key: str, public_key: str, secret_key: str) -> str:
    """Connect `socket` to the bridge (CURVE on TCP only); returns the endpoint used."""
    endpoint = endpoint_for(info, tcp_key, ipc_key)
    if endpoint.startswith("tcp://"):
        socket.curve_serverkey = info["server_public_key"].encode("ascii")
        socket.curve_publickey = public_key.encode("ascii")
        socket.curve_secretkey = secret_key.encode("ascii")
    socket.connect(endpoint)
    return endpoint
