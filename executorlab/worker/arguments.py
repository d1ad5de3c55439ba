"""The worker's side of futures as arguments (the client's is ``executorlab.futures.ArgumentPickler``).

Kept apart from the client so a worker starts without importing concurrent.futures.
"""

import io
import pickle


class ArgumentUnpickler(pickle.Unpickler):
    """References become the dependencies' results: ``("dep", task_id, selectors)`` or ``("val", value)``."""

    def __init__(self, file, dependency_results: dict):
        super().__init__(file)
        self.dependency_results = dependency_results

    def persistent_load(self, pid):
        kind = pid[0]
        if kind == "val":
            return pid[1]
        if kind == "dep":
            value = self.dependency_results[pid[1]]
            for selector in pid[2]:
                value = None if value is None else value[selector]
            return value
        raise pickle.UnpicklingError(f"unknown reference {kind!r} in task arguments")


def loads_arguments(blob: bytes, dependency_results: dict):
    return ArgumentUnpickler(io.BytesIO(blob), dependency_results).load()
