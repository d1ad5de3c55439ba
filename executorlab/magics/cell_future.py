"""The future of a ``%%submit`` cell: its result is the cell's value, and awaiting it brings the names the
cell assigned back into the notebook."""

import asyncio
import sys
import threading

from executorlab.futures import TaskFuture
from executorlab.magics.cell import CellResult

# As much as the bridge keeps of a task's output.
OUTPUT_LIMIT = 64 * 1024


class CellFuture(TaskFuture):
    def __init__(self, namespace: dict):
        super().__init__()
        self._namespace = namespace
        self._assigned = {}
        self._unsent = {}
        self._applied = False
        self._apply_lock = threading.Lock()
        #: What the cell printed (the last 64 KiB), when it returned at once: its status line shows it.
        self.output = ""

    def set_result(self, result) -> None:
        if isinstance(result, CellResult):
            self._assigned, self._unsent = result.assigned, result.unsent
            result = result.value
        elif isinstance(result, list) and result and all(isinstance(r, CellResult) for r in result):
            # Run on several MPI ranks: the value of every rank, as executorlib returns them; the names of rank 0.
            self._assigned, self._unsent = result[0].assigned, result[0].unsent
            result = [r.value for r in result]
        super().set_result(result)

    def result(self, timeout=None):
        value = super().result(timeout)
        self.apply_names()
        return value

    def __await__(self):
        yield from asyncio.wrap_future(self).__await__()
        return self.result()

    def apply_names(self) -> None:
        """Put the names the cell assigned into the notebook's namespace, once."""
        with self._apply_lock:
            if self._applied:
                return
            self._applied = True
        self._namespace.update(self._assigned)
        for name, why in self._unsent.items():
            print(f"%%submit: {name} stays on the worker: it cannot be sent back ({why})", file=sys.stderr)

    def collect(self, name: str, text: str) -> None:
        self.output = (self.output + text)[-OUTPUT_LIMIT:]
