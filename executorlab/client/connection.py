"""The connection from this Python process to the bridge: two ZeroMQ DEALER sockets, one that receives
(owned by a background I/O thread) and one that only sends.

A lone outgoing message leaves from the caller's thread on a send-only socket; bursts are queued and the
I/O thread sends them in batches. The I/O thread owns the receiving socket: replies, results and output,
and it completes the futures.
"""

import atexit
import itertools
import os
import sys
import threading
import time
import uuid
from concurrent.futures import CancelledError, Future

import cloudpickle
import zmq

from executorlab import transport
from executorlab.client import bridge_process
from executorlab.errors import BridgeConnectionError, ExecutorlabJobError, ExecutorlabWorkerError, RemoteTraceback
from executorlab.futures import cancel_future, notify_cancelled
from executorlab.protocol import batch, encode, unbatch

HELLO_TIMEOUT = 10.0
HEARTBEAT_INTERVAL = 2.0
CURRENT_CHECK_INTERVAL = 0.05
LIVENESS_INTERVAL_MS = 1000
# Frames at least this big are received without a copy.
ZERO_COPY_BYTES = 1 << 20
# A message sent less than this long (s) after the one before joins a burst: the I/O thread batches it.
BURST_GAP = 200e-6


def _python_path() -> list:
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return [os.getcwd(), package_parent]


def _kernel_id():
    """The Jupyter kernel's id when running inside one (its connection file is kernel-<id>.json)."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        from ipykernel import get_connection_file

        name = os.path.basename(get_connection_file())
    except Exception:  # not in a running kernel after all
        return None
    return name[len("kernel-") : -len(".json")] if name.startswith("kernel-") and name.endswith(".json") else None


def remote_exception(message: dict, blobs: list) -> BaseException:
    """The exception a failed task raises in the caller: the worker's own object when it unpickles."""
    exception = None
    if blobs:
        try:
            exception = cloudpickle.loads(blobs[0])
        except Exception:  # an exception class the kernel cannot import: fall back to the text
            exception = None
    if not isinstance(exception, BaseException):
        kind, text = message["error_type"], message["error_message"]
        if kind == "ValueError":
            exception = ValueError(text)
        elif kind == "TimeoutError":  # run_time_max: the bridge killed the call
            exception = TimeoutError(text)
        elif kind == ExecutorlabJobError.__name__:
            exception = ExecutorlabJobError(text)
        else:
            exception = ExecutorlabWorkerError(text if kind == ExecutorlabWorkerError.__name__ else f"{kind}: {text}")
    if message.get("traceback"):
        exception.__cause__ = RemoteTraceback(message["traceback"])
    return exception


class BridgeClient:
    def __init__(self, info: dict, connection_file: str = None):
        self.info = info
        self.instance_id = info["instance_id"]
        self.connection_file = connection_file
        self.client_id = f"k-{uuid.uuid4().hex}"
        self.stale = False
        self._file_stamp = self._stamp()
        self._checked_at = 0.0
        self._context = zmq.Context()
        # Outgoing messages leave on a socket of their own, which only sends: a lone message (the usual
        # submit, a request) goes out from the caller's thread at once, a burst is queued and the I/O
        # thread sends it as one batch. The lock keeps the socket to one thread at a time and the order:
        # nothing is sent directly while messages wait in the outbox.
        self._send_lock = threading.Lock()
        self._outbox = []
        self._last_sent = 0.0
        self._sender = None
        self._io_sending = False
        self._wake_pending = False
        wake_address = f"inproc://executorlab-wake-{self.client_id}"
        self._wake_in = self._context.socket(zmq.PAIR)
        self._wake_in.bind(wake_address)
        self._wake_out = self._context.socket(zmq.PAIR)
        self._wake_out.connect(wake_address)
        self._futures = {}
        # id(future) -> task id for futures still pending here: how arguments become dependencies.
        self.task_ids = {}
        self._waiting = {}
        self._request_ids = itertools.count()
        # Task ids: unique per bridge without a random draw per task (os.urandom costs ~10 µs here).
        self._task_prefix = f"t-{uuid.uuid4().hex[:16]}-"
        self._task_numbers = itertools.count()
        self._welcome = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="executorlab-bridge-io", daemon=True)
        self._thread.start()
        if not self._welcome.wait(HELLO_TIMEOUT):
            self.close()
            raise BridgeConnectionError(
                f"the executorlab bridge at {transport.endpoint_for(info, 'client_endpoint', 'client_ipc_endpoint')} did not answer within {HELLO_TIMEOUT:.0f} s"
            )
        sender = self._context.socket(zmq.DEALER)
        sender.setsockopt(zmq.ROUTING_ID, f"{self.client_id}-send".encode())
        sender.setsockopt(zmq.LINGER, 1000)
        transport.connect(sender, info, "client_endpoint", "client_ipc_endpoint",
                          info["client_public_key"], info["client_secret_key"])
        # After the welcome: the bridge knows the client before anything arrives on this socket.
        sender.send(encode({"type": "attach", "client_id": self.client_id}))
        self._sender = sender

    # ---- used by executors (any thread)

    def _stamp(self):
        if not self.connection_file:
            return None
        try:
            st = os.stat(self.connection_file)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def is_current(self) -> bool:
        """Whether the bridge this connection talks to still runs; checked at most every 50 ms.

        A replaced bridge announces itself only after the old one is reaped and the server extension's
        restart delay (≥ 0.5 s), so the cached answer is never stale across a restart.
        """
        if self.stale:
            return False
        now = time.monotonic()
        if now - self._checked_at < CURRENT_CHECK_INTERVAL:
            return True
        current = self._check_current()
        if current:
            self._checked_at = now
        return current

    def _check_current(self) -> bool:
        if not bridge_process.pid_alive(int(self.info["pid"])):
            return False
        if not self.connection_file or self._stamp() == self._file_stamp:
            return True
        current = bridge_process.read_connection_file(self.connection_file)
        return current is not None and current["instance_id"] == self.instance_id

    def send(self, message: dict, blobs=()) -> None:
        if self._closed:
            raise BridgeConnectionError("the connection to the executorlab bridge is closed")
        with self._send_lock:
            now = time.monotonic()
            if not self._outbox and not self._io_sending and now - self._last_sent > BURST_GAP and self._sender is not None:
                self._sender.send_multipart([encode(message), *blobs])
                self._last_sent = now
                return
            self._outbox.append((message, blobs))
            self._last_sent = now
            # One wake-up per burst: the I/O thread sends everything queued when it wakes.
            if not self._wake_pending:
                self._wake_pending = True
                self._wake_out.send(b"")

    def request(self, message: dict, timeout: float = 60.0, blobs=()) -> dict:
        """Send a message that the bridge answers with a reply; raise ValueError if it refused; the reply."""
        request_id = f"r{next(self._request_ids)}"
        done = threading.Event()
        self._waiting[request_id] = [done, None]
        self.send({**message, "request_id": request_id}, blobs)
        if not done.wait(timeout):
            self._waiting.pop(request_id, None)
            raise BridgeConnectionError(f"the executorlab bridge did not answer {message['type']} within {timeout:.0f} s")
        reply = self._waiting.pop(request_id)[1]
        if reply.get("lost"):
            raise BridgeConnectionError(reply["error"])
        if not reply["ok"]:
            raise ValueError(reply["error"])
        return reply

    def new_task_id(self) -> str:
        return f"{self._task_prefix}{next(self._task_numbers)}"

    def submit(self, message: dict, blobs: list, future: Future) -> None:
        task_id = message["task_id"]
        self._futures[task_id] = future
        self.task_ids[id(future)] = task_id
        future.task_id = task_id
        future.add_done_callback(self._on_done(task_id))
        self.send(message, blobs)

    def close(self) -> None:
        if self._closed:
            return
        with self._send_lock:
            if not self.stale:
                self._outbox.append(({"type": "bye"}, ()))
            self._closed = True
            if self._thread.is_alive():
                self._wake_out.send(b"")
        self._thread.join(timeout=5)

    # ---- I/O thread

    def _on_done(self, task_id):
        def callback(future: Future):
            self.task_ids.pop(id(future), None)
            self._futures.pop(task_id, None)
            if future.cancelled():
                notify_cancelled(future)
                if not self._closed and not self.stale:
                    self.send({"type": "cancel", "task_id": task_id})

        return callback

    def _run(self) -> None:
        dealer = self._context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.ROUTING_ID, self.client_id.encode())
        dealer.setsockopt(zmq.LINGER, 1000)
        transport.connect(dealer, self.info, "client_endpoint", "client_ipc_endpoint",
                          self.info["client_public_key"], self.info["client_secret_key"])
        # The hello goes on the receiving socket: the bridge answers there from now on.
        dealer.send(encode({
            "type": "hello",
            "client_id": self.client_id,
            "pid": os.getpid(),
            "python": sys.executable,
            "kernel_id": _kernel_id(),
            "pythonpath": _python_path(),
        }))
        poller = zmq.Poller()
        poller.register(dealer, zmq.POLLIN)
        poller.register(self._wake_in, zmq.POLLIN)
        try:
            while not self._closed:
                events = dict(poller.poll(LIVENESS_INTERVAL_MS))
                if self._wake_in in events:
                    self._drain(self._wake_in)
                self._send_queued()
                if dealer in events:
                    self._drain(dealer, self._dispatch)
                if not events and (self._futures or self._waiting) and not self._check_current():
                    self._lose_bridge("the executorlab bridge stopped or was restarted while this task was pending")
            # close() queued a bye: deliver it before the socket goes.
            if not self.stale:
                self._send_queued()
        finally:
            with self._send_lock:
                if self._sender is not None:
                    self._sender.close(linger=1000 if not self.stale else 0)
                    self._sender = None
            dealer.close(linger=0)
            self._wake_in.close()
            self._wake_out.close()
            self._context.term()

    def _send_queued(self) -> None:
        """Send everything queued, in batches (a burst of submits costs one message), and heartbeats."""
        with self._send_lock:
            # Cleared while holding the lock: a message queued after this wakes us again.
            self._wake_pending = False
            if self._sender is None:
                return
            messages, self._outbox = self._outbox, []
            if not messages and time.monotonic() - self._last_sent > HEARTBEAT_INTERVAL:
                messages = [({"type": "heartbeat"}, ())]
            if not messages:
                return
            # Callers queue while this is set, so the socket is ours without holding the lock: a burst's
            # callers go on submitting while its batch is encoded and sent.
            self._io_sending = True
        try:
            for frames in batch(messages):
                self._sender.send_multipart(frames)
        finally:
            with self._send_lock:
                self._io_sending = False
                self._last_sent = time.monotonic()

    @staticmethod
    def _drain(socket, handle=None) -> None:
        """Receive everything waiting, without a poll per message. A big frame (a result of megabytes)
        is not copied: its blob is a view of ZeroMQ's buffer, which unpickling reads as well."""
        while True:
            try:
                frames = socket.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            if handle is not None:
                # The header (frame 0) is JSON text, whatever its size.
                handle([frames[0].bytes] + [f.buffer if len(f) >= ZERO_COPY_BYTES else f.bytes for f in frames[1:]])

    def _lose_bridge(self, why: str) -> None:
        self.stale = True
        self._closed = True
        for task_id, future in list(self._futures.items()):
            if not future.done():
                future.set_exception(BridgeConnectionError(f"{why}; task {task_id} was lost, submit it again"))
        self._futures.clear()
        for entry in self._waiting.values():
            entry[1] = {"ok": False, "error": why, "lost": True}
            entry[0].set()

    def _dispatch(self, frames: list) -> None:
        try:
            messages = unbatch(frames)
        except Exception as error:  # whatever arrives, the I/O thread lives on
            print(f"executorlab: ignored a malformed message from the bridge: {error}", file=sys.stderr)
            return
        for message, blobs in messages:
            try:
                self._handle(message, blobs)
            except Exception as error:  # a malformed message from the bridge must not stop the I/O thread
                print(f"executorlab: ignored a message from the bridge it could not handle ({error!r}): "
                      f"{str(message)[:200]}", file=sys.stderr)

    def _handle(self, message: dict, blobs: list) -> None:
        kind = message.get("type")
        if kind == "welcome":
            self._welcome.set()
        elif kind == "reply":
            entry = self._waiting.get(message["request_id"])
            if entry is not None:
                entry[1] = message
                entry[0].set()
        elif kind == "task_state":
            future = self._futures.get(message["task_id"])
            if future is None:
                return
            if message["state"] == "running" and not future.done():
                future.set_running_or_notify_cancel()
            elif message["state"] == "cancelled":
                self._futures.pop(message["task_id"], None)
                # A running future cannot be cancelled any more; it ends with CancelledError instead.
                if not cancel_future(future) and not future.done():
                    future.set_exception(CancelledError("the task was cancelled in the executorlab bridge"))
        elif kind == "result":
            future = self._futures.pop(message["task_id"], None)
            if future is None or future.done():
                return
            if message["ok"]:
                try:
                    value = cloudpickle.loads(blobs[0])
                except Exception as error:
                    future.set_exception(error)
                else:
                    future.set_result(value)
            else:
                future.set_exception(remote_exception(message, blobs))
        elif kind == "stream":
            handler = getattr(self._futures.get(message["task_id"]), "on_stream", None)
            if handler is not None:
                handler(message["name"], message["text"])
                return
            stream = sys.stdout if message["name"] == "stdout" else sys.stderr
            stream.write(message["text"])
            stream.flush()
        elif kind == "error":
            print(f"executorlab bridge: {message['message']}", file=sys.stderr)


_client = None
_client_lock = threading.Lock()


def get_client() -> BridgeClient:
    """The process-wide connection, reconnecting when the bridge it knew is gone or when
    EXECUTORLAB_CONNECTION_FILE now names another bridge (set after the first call, or changed)."""
    global _client
    with _client_lock:
        wanted = os.environ.get(bridge_process.CONNECTION_FILE_ENV)
        if _client is not None and _client.connection_file == wanted and _client.is_current():
            return _client
        if _client is not None and _client.connection_file != wanted:
            _client.close()  # the bridge it knew still runs: say goodbye, end the I/O thread
            _client._lose_bridge(f"EXECUTORLAB_CONNECTION_FILE now names another bridge ({wanted or 'a private one'})")
        elif _client is not None:
            _client._lose_bridge("the executorlab bridge stopped or was restarted")
        info = bridge_process.locate_bridge()
        _client = BridgeClient(info, os.environ.get(bridge_process.CONNECTION_FILE_ENV))
        atexit.register(_client.close)
        return _client
