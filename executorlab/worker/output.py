"""Forward what the function prints to the bridge while it runs, instead of losing it."""

import io
import threading
import time

MAX_CHUNK = 64 * 1024


class StreamForwarder(io.TextIOBase):
    """A text stream that sends its contents as ``stream`` messages, at most every ``interval`` s."""

    def __init__(self, name: str, send, interval: float = 0.2, max_buffer: int = 64 * 1024):
        super().__init__()
        self.name = name
        self._send = send
        self._interval = interval
        self._max_buffer = max_buffer
        self._buffer = []
        self._size = 0
        self._last = 0.0
        self._lock = threading.Lock()

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

    def flush(self) -> None:
        with self._lock:
            if not self._buffer:
                return
            text = "".join(self._buffer)
            self._buffer.clear()
            self._size = 0
            self._last = time.monotonic()
        # In pieces that keep each message's header under the bridge's 1 MiB (JSON may spend 12 bytes
        # on a character).
        for start in range(0, len(text), MAX_CHUNK):
            self._send(self.name, text[start : start + MAX_CHUNK])
