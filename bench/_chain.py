"""The bridge's round trip without executorlab: kernel thread (send-only socket) -> Node.js forwarder
(ROUTERs on IPC, zeromq.js) -> worker process -> forwarder -> kernel I/O thread -> kernel thread, with
nothing done at any hop. ``ChainExecutor.submit(fn, *args)`` sends a fixed payload and ignores fn: it
is a floor, not an executor."""

import json
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import Future

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = """
import json, sys, zmq
info = json.loads(sys.argv[1])
socket = zmq.Context().socket(zmq.DEALER)
socket.connect(info["workers"])
socket.send(b"hello")
while True:
    socket.send_multipart(socket.recv_multipart())
"""


class ChainExecutor:
    def __init__(self):
        self.forwarder = subprocess.Popen([shutil.which("node") or "node", os.path.join(HERE, "chain_forwarder.mjs")],
                                          stdout=subprocess.PIPE, text=True)
        info = json.loads(self.forwarder.stdout.readline())
        self.worker = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(info)])
        if self.forwarder.stdout.readline().strip() != "ready":  # the worker said hello
            raise RuntimeError("the chain's worker did not connect to the forwarder")
        self.context = zmq.Context()
        self.futures = {}
        self.count = 0
        self.info = info
        self.closed = False
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait()
        # As the client's: the caller's thread sends on a socket of its own, under a lock.
        self.lock = threading.Lock()
        self.sender = self.context.socket(zmq.DEALER)
        self.sender.connect(info["kernels"])

    def _run(self):
        socket = self.context.socket(zmq.DEALER)
        socket.connect(self.info["kernels"])
        socket.send_multipart([b"hello", b""])
        socket.recv_multipart()  # the welcome: the forwarder knows where answers go
        self.ready.set()
        while not self.closed:
            if socket.poll(200):
                while socket.poll(0):
                    key, _ = socket.recv_multipart()
                    self.futures.pop(key).set_result(None)
        socket.close(0)

    def submit(self, fn, *args):
        with self.lock:
            self.count += 1
            key = str(self.count).encode()
            future = Future()
            self.futures[key] = future
            self.sender.send_multipart([key, b"payload"])
        return future

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True
        self.thread.join()
        self.worker.kill()
        self.forwarder.terminate()  # it removes its socket directory
        self.worker.wait()
        self.forwarder.wait()
        self.sender.close(0)
        self.context.term()
