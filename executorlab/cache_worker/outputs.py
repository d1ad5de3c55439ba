"""Write a finished call's ``<key>_o.h5``: whole or not at all, then remove its ``<key>_i.h5``.

The new file holds the input's datasets (not the ``executorlab_dependency_*`` ones), ``output`` or
``error``, and ``runtime``, in executorlib's format; its root attributes are what the bridge's cache
browser shows without unpickling (see ``kernel-bridge/src/cache/store.ts``).
"""

import contextlib
import os
import re
import secrets
import time
from typing import Optional

import h5py
import numpy as np

from executorlab.cache.hdf import _TMP_SUFFIX, _create_dataset
from executorlab.cache_worker.inputs import DEPENDENCIES_ATTRIBUTE, DEPENDENCY_DATASET_PREFIX

MAX_ERROR_MESSAGE = 2_000
MAX_TRACEBACK = 20_000
_HASHED_KEY = re.compile(r"^(.+?)[0-9a-f]{32}$")
# Datasets of the input that the outcome replaces (an _i.h5 has none of them).
_OUTCOME = ("output", "error", "runtime")
# Attributes that describe one outcome only: an input's own (there should be none) are not carried over.
_OUTCOME_ATTRIBUTES = (
    "executorlab_result", "executorlab_error_type", "executorlab_error_message", "executorlab_traceback",
)


class Outcome:
    """Rank 0's result of the call: ``blob`` (cloudpickle bytes) of the output, or of the error."""

    def __init__(self, ok: bool, blob: bytes, runtime: float, summary: Optional[str] = None,
                 error: Optional[BaseException] = None, traceback: str = ""):
        self.ok = ok
        self.blob = blob
        self.runtime = runtime
        self.summary = summary
        self.error = error
        self.traceback = traceback


def function_label(fn, input_attributes: dict, input_path: str) -> str:
    """The function's name (``__name__``, else its class's); without a loaded function, the input's own
    attribute or the name part of a hashed key."""
    if fn is not None:
        from executorlab.cache.key import function_name

        return function_name(fn)
    named = input_attributes.get("executorlab_function")
    if isinstance(named, str) and named:
        return named
    key = os.path.basename(input_path)[: -len("_i.h5")]
    match = _HASHED_KEY.match(key)
    return match.group(1) if match else key


def write_output(input_path: str, output_path: str, outcome: Outcome, function: str) -> None:
    """Write ``output_path`` under a temporary name in its folder, rename it into place, remove the input."""
    directory = os.path.dirname(os.path.abspath(output_path))
    tmp = os.path.join(directory, f".{os.path.basename(output_path)}.{secrets.token_hex(8)}{_TMP_SUFFIX}")
    try:
        with h5py.File(input_path, "r") as source, h5py.File(tmp, "x") as target:
            for name in source:
                if not name.startswith(DEPENDENCY_DATASET_PREFIX) and name not in _OUTCOME:
                    source.copy(source[name], target, name=name)
            for name, value in source.attrs.items():
                if name != DEPENDENCIES_ATTRIBUTE and name not in _OUTCOME_ATTRIBUTES:
                    target.attrs[name] = value
            _write_blob(target, "output" if outcome.ok else "error", outcome.blob)
            _create_dataset(target, "runtime", outcome.runtime)
            target.attrs.update(_attributes(outcome, function))
        os.replace(tmp, output_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    with contextlib.suppress(FileNotFoundError):
        os.remove(input_path)


def _write_blob(hdf: h5py.File, name: str, blob: bytes) -> None:
    """An already pickled value, stored as ``executorlab.cache.hdf`` stores one (pickled once only)."""
    hdf.create_dataset(name="/" + name, data=np.frombuffer(blob, dtype=np.uint8), compression="gzip")


def _attributes(outcome: Outcome, function: str) -> dict:
    attributes = {
        "executorlab_function": function,
        "executorlab_status": "done" if outcome.ok else "error",
        "executorlab_runtime": float(outcome.runtime),
        "executorlab_created": time.time(),
        "executorlab_size": len(outcome.blob),
    }
    if outcome.ok:
        if outcome.summary is not None:
            attributes["executorlab_result"] = outcome.summary
    else:
        attributes["executorlab_error_type"] = type(outcome.error).__name__
        attributes["executorlab_error_message"] = safe_str(outcome.error)[:MAX_ERROR_MESSAGE]
        attributes["executorlab_traceback"] = outcome.traceback[-MAX_TRACEBACK:]
    return attributes


def append_error_log(error_log_file: str, fn, args, kwargs, traceback_text: str) -> None:
    """executorlib's record of a failed call (``backend_write_error_file``), appended to ``error_log_file``."""
    with open(error_log_file, "a") as f:
        f.write("function: " + safe_str(fn) + "\n")
        f.write("args: " + safe_str(args) + "\n")
        f.write("kwargs: " + safe_str(kwargs) + "\n")
        f.write(traceback_text if traceback_text.endswith("\n") or not traceback_text else traceback_text + "\n")


def safe_str(value) -> str:
    try:
        return str(value)
    except Exception:  # a broken __str__ must not hide the failure being reported
        return f"<{type(value).__name__}>"
