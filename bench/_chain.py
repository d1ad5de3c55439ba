"""The bridge's round trip without executorlab: kernel thread -> I/O thread -> Node.js forwarder (CURVE
ROUTERs, zeromq.js) -> worker process -> forwarder -> I/O thread -> kernel thread, with nothing done at
any hop. ``ChainExecutor.submit(fn, *args)`` sends a fixed payload and ignores fn: it is a floor, not
an executor."""

import json
import os
import queue
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
socket.curve_serverkey = info["server_public_key"].encode()
socket.curve_publickey, socket.curve_secretkey = zmq.curve_keypair()
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
        self.outbox = queue.SimpleQueue()
        self.futures = {}
        self.count = 0
        self.wake_in = self.context.socket(zmq.PAIR)
        self.wake_in.bind("inproc://chain-wake")
        self.wake_out = self.context.socket(zmq.PAIR)
        self.wake_out.connect("inproc://chain-wake")
        self.info = info
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        socket = self.context.socket(zmq.DEALER)
        socket.curve_serverkey = self.info["server_public_key"].encode()
        socket.curve_publickey, socket.curve_secretkey = zmq.curve_keypair()
        socket.connect(self.info["kernels"])
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        poller.register(self.wake_in, zmq.POLLIN)
        while not self.closed:
            events = dict(poller.poll(200))
            while self.wake_in.poll(0):
                self.wake_in.recv()
            while True:
                try:
                    socket.send_multipart(self.outbox.get_nowait())
                except queue.Empty:
                    break
            while socket in events and socket.poll(0):
                key, _ = socket.recv_multipart()
                self.futures.pop(key).set_result(None)
        socket.close(0)

    def submit(self, fn, *args):
        self.count += 1
        key = str(self.count).encode()
        future = Future()
        self.futures[key] = future
        self.outbox.put([key, b"payload"])
        self.wake_out.send(b"")
        return future

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.closed = True
        self.thread.join()
        self.worker.kill()
        self.forwarder.kill()
        self.worker.wait()
        self.forwarder.wait()
        self.wake_in.close()
        self.wake_out.close()
        self.context.term()
