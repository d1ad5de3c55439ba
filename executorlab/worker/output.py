"""Forward what the function prints to the bridge while it runs, instead of losing it.

With several MPI ranks every line starts with ``[<rank>] ``; rank 0 sends on its own connection, the
other ranks through a ``RankOutput``, a socket of their own opened when they first print.
"""

import io
import json
import sys
import threading
import time

import zmq

from executorlab import transport
from executorlab.protocol import encode

MAX_CHUNK = 64 * 1024
# How long a rank waits at the end of a task for its output to leave (s), and at exit (ms).
DELIVERY_TIMEOUT = 2.0
CLOSE_LINGER_MS = 5000
# A send that the bridge cannot take for this long goes to the launcher's stream instead (ms).
SEND_TIMEOUT_MS = 10_000


class StreamForwarder(io.TextIOBase):
    """A text stream that sends its contents as ``stream`` messages, at most every ``interval`` s.

    With ``prefix`` each line starts with it (applied when sending, so writes cost the same either way).
    """

    def __init__(self, name: str, send, interval: float = 0.2, max_buffer: int = 64 * 1024, prefix: str = None):
        super().__init__()
        self.name = name
        self._send = send
        self._interval = interval
        self._max_buffer = max_buffer
        self._buffer = []
        self._size = 0
        self._last = 0.0
        self._lock = threading.Lock()
        self._prefix = prefix
        self._line_start = True

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer.append(text)
            self._size += len(text)
            due = self._size >= self._max_buffer or (("\n" in text) and time.monotonic() - self._last >= self._interval)
        if due:
            self.flush()
        return len(text)

    def flush(self, whole: bool = False) -> None:
        with self._lock:
            if not self._buffer:
                return
            text = "".join(self._buffer)
            rest = ""
            if self._prefix is not None and not whole and self._size < self._max_buffer:
                # Whole lines only: the ranks' messages are joined in arrival order, so a line sent in
                # pieces would get another rank's text in its middle.
                cut = text.rfind("\n") + 1
                text, rest = text[:cut], text[cut:]
            self._buffer = [rest] if rest else []
            self._size = len(rest)
            self._last = time.monotonic()
            if not text:
                return
            if self._prefix is not None:
                text = self._prefixed(text)
        # In pieces that keep each message's header under the bridge's 1 MiB (JSON may spend 12 bytes
        # on a character).
        for start in range(0, len(text), MAX_CHUNK):
            self._send(self.name, text[start : start + MAX_CHUNK])

    def finish(self) -> None:
        """End of a task: send what is left, even a line without its newline. With a prefix an open line is
        ended, so that the ranks' last lines do not run into each other (or into the next task's)."""
        if self._prefix is not None:
            with self._lock:
                last = next((piece for piece in reversed(self._buffer) if piece), None)
                open_line = not self._line_start if last is None else not last.endswith("\n")
                if open_line:
                    self._buffer.append("\n")
        self.flush(whole=True)

    def _prefixed(self, text: str) -> str:
        """``text`` with the prefix at each line start; a line continued from the last flush has it already."""
        if not text:
            return text
        prefix = self._prefix
        out = text.replace("\n", "\n" + prefix)
        if self._line_start:
            out = prefix + out
        # A line that has not started yet gets its prefix with its first character.
        self._line_start = text.endswith("\n")
        return out[: -len(prefix)] if self._line_start else out


class RankOutput:
    """What a rank > 0 prints during a task: sent as ``stream`` messages naming rank 0's worker, on a
    DEALER of its own (routing id ``w-<worker_id>-r<rank>``) that connects to the bridge when the rank
    first prints. Ranks that never print never connect.
    """

    def __init__(self, bridge_file: str, worker_id: str, rank: int):
        self.bridge_file = bridge_file
        self.worker_id = worker_id
        self.rank = rank
        self.task_id = None
        prefix = f"[{rank}] "
        self.stdout = StreamForwarder("stdout", self._send, prefix=prefix)
        self.stderr = StreamForwarder("stderr", self._send, prefix=prefix)
        # Where output goes when the bridge cannot be reached: the launcher's streams, as before.
        self._fallback = {"stdout": sys.stdout, "stderr": sys.stderr}
        # Both streams and a task's threads send on the one socket.
        self._lock = threading.Lock()
        self._context = None
        self._socket = None
        self._failed = False
        # The task's last message: done once ZeroMQ has written it (and everything before it) out.
        self._tracker = None

    def run(self, task_id: str, call, *args):
        """``call(*args)`` with sys.stdout/sys.stderr sent as this task's output; all of it has left when this
        returns, so it reaches the bridge before rank 0's result (sent after every rank returned)."""
        self.task_id = task_id
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.stdout, self.stderr
        try:
            return call(*args)
        finally:
            sys.stdout, sys.stderr = saved
            self.stdout.finish()
            self.stderr.finish()
            self._wait_sent()

    def _send(self, name: str, text: str) -> None:
        header = encode(
            {"type": "stream", "task_id": self.task_id, "worker_id": self.worker_id, "name": name, "text": text}
        )
        with self._lock:
            if self._socket is None and not self._failed:
                self._open()
            if self._socket is not None:
                try:
                    # Zero-copy so the tracker says when ZeroMQ is done with it (a copied frame is done at once).
                    self._tracker = self._socket.send(zmq.Frame(header, track=True, copy=False), copy=False, track=True)
                    return
                except zmq.ZMQError:
                    pass
        self._fallback[name].write(text)
        self._fallback[name].flush()

    def _open(self) -> None:
        try:
            with open(self.bridge_file, encoding="utf-8") as f:
                credentials = json.load(f)
            self._context = zmq.Context()
            self._socket = self._context.socket(zmq.DEALER)
            self._socket.setsockopt(zmq.LINGER, CLOSE_LINGER_MS)
            self._socket.setsockopt(zmq.SNDTIMEO, SEND_TIMEOUT_MS)
            self._socket.setsockopt(zmq.ROUTING_ID, f"w-{self.worker_id}-r{self.rank}".encode())
            transport.connect(self._socket, credentials, "worker_endpoint", "worker_ipc_endpoint",
                              credentials["public_key"], credentials["secret_key"])
        except Exception as error:  # output still shows, where it went before: the launcher's stream
            self._failed = True
            self._release(0)
            print(f"executorlab: rank {self.rank} could not reach the bridge ({error}); its output goes to the "
                  "launcher", file=self._fallback["stderr"], flush=True)

    def _wait_sent(self) -> None:
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            try:
                tracker.wait(DELIVERY_TIMEOUT)
            except zmq.NotDone:
                pass

    def close(self) -> None:
        """Send what is still queued (up to CLOSE_LINGER_MS), then close the socket."""
        with self._lock:
            self._release(CLOSE_LINGER_MS)

    def _release(self, linger: int) -> None:
        if self._socket is not None:
            self._socket.close(linger)
            self._socket = None
        if self._context is not None:
            self._context.term()
            self._context = None
