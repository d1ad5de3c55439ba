"""A file that tells the bridge what a worker was doing when it died.

ZeroMQ hands a message to a background I/O thread: a task that kills the worker (segfault, os._exit,
SIGKILL) right after the one before it finished can take that one's result along, and the bridge would
not know which task was running. Before each task the worker writes, at the start of this file, the
task's id and the last results it sent (small ones, in full); the file survives the process, and the
bridge reads it when the worker dies (kernel-bridge/src/workers/journal.ts).

    line 1:      id of the task started last
    next lines:  <result header JSON> TAB <blob as base64>,<blob as base64>...   (the last KEEP results)
"""

import base64
import collections
import os

KEEP = 2
MAX_BLOBS = 4096


class Journal:
    def __init__(self, path: str):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.results = collections.deque(maxlen=KEEP)

    def result(self, header: bytes, blobs) -> None:
        """Remember a result just sent (its encoded header): the next started() writes it down."""
        if sum(len(blob) for blob in blobs) <= MAX_BLOBS:
            self.results.append(header + b"\t" + b",".join(base64.b64encode(blob) for blob in blobs))

    def started(self, task_id: str) -> None:
        os.pwrite(self.fd, b"\n".join([task_id.encode(), *self.results]) + b"\n\n", 0)

    def close(self) -> None:
        os.close(self.fd)
        try:
            os.unlink(self.path)
        except OSError:
            pass
