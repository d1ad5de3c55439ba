"""Read and write executorlib's HDF5 cache files, byte-compatible with ``executorlib.standalone.hdf``.

A task's cache lives in ``<cache_directory>/<key>_o.h5`` once it finished, and in ``<key>_i.h5`` while a
cluster job for it is queued or running. Each value is stored at the file's root as its own dataset: a 1-D
``uint8`` array of ``cloudpickle.dumps(value)``, gzip-compressed. Files written by executorlib before it
switched to ``np.frombuffer`` hold a scalar ``np.void`` instead; ``dataset[()].tobytes()`` gives the pickle
for both, so every reader here goes through ``_read``.

Our own files may carry HDF5 attributes on the root (``executorlab_function``, ``executorlab_status``, ...)
for the JupyterLab side; executorlib never looks at attributes, and neither do the readers here.

Unlike executorlib, ``dump`` creates a new file under a temporary name and renames it into place, so a
process that dies while writing never leaves a half file where readers (or executorlib) look.
"""

import contextlib
import os
import secrets
import time
from concurrent.futures import Future
from typing import Any, Optional

import cloudpickle
import h5py
import numpy as np

# data_dict key -> dataset name, as in executorlib.
group_dict = {
    "fn": "function",
    "args": "input_args",
    "kwargs": "input_kwargs",
    "output": "output",
    "error": "error",
    "resource_dict": "resource_dict",
    "runtime": "runtime",
    "queue_id": "queue_id",
    "error_log_file": "error_log_file",
}

_CACHE_SUFFIXES = ("_o.h5", "_i.h5")
_TMP_SUFFIX = ".tmp"


def dump(file_name: Optional[str], data_dict: dict) -> None:
    """Store the values of ``data_dict`` (keys of ``group_dict``; others are ignored) in ``file_name``.

    Datasets already in the file are kept, not overwritten (executorlib relies on this: the first output
    written wins). A new file is written as ``.<name>.<random>.tmp`` in the same directory and then
    renamed over ``file_name`` with ``os.replace``; if two processes create the same file at once, the last
    rename wins and the file is always complete. Durability against power loss is not attempted (no
    fsync), which keeps writes cheap on cluster file systems. ``file_name=None`` does nothing.
    """
    if file_name is None:
        return
    path = os.path.abspath(file_name)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    if os.path.exists(path):
        # Appending in place, as executorlib does: the datasets already there stay readable throughout.
        with h5py.File(path, "a") as hdf:
            _write_datasets(hdf, data_dict)
        return
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(8)}{_TMP_SUFFIX}")
    try:
        with h5py.File(tmp, "x") as hdf:
            _write_datasets(hdf, data_dict)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def load(file_name: str) -> dict:
    """The call stored in a cache file: ``{"fn", "args", "kwargs", "resource_dict"}``, plus
    ``"error_log_file"`` if the file has one. Missing args/kwargs/resource_dict read as ``()``/``{}``/``{}``.

    Raises:
        TypeError: the file has no ``function`` dataset (executorlib's error, kept for compatibility).
    """
    with h5py.File(file_name, "r") as hdf:
        if "function" not in hdf:
            raise TypeError(f"Function not found in HDF5 file {file_name}: it has no 'function' dataset.")
        data_dict = {
            "fn": _read(hdf, "function"),
            "args": _read(hdf, "input_args") if "input_args" in hdf else (),
            "kwargs": _read(hdf, "input_kwargs") if "input_kwargs" in hdf else {},
            "resource_dict": _read(hdf, "resource_dict") if "resource_dict" in hdf else {},
        }
        if "error_log_file" in hdf:
            data_dict["error_log_file"] = _read(hdf, "error_log_file")
        return data_dict


def get_output(file_name: str) -> tuple[bool, bool, Any]:
    """``(done, ok, value)``: ``(True, True, output)``, else ``(True, False, error)``, else ``(False, False, None)``.

    A missing file is retried 10 times 0.1 s apart, as executorlib does: the backend renames ``_i.h5`` to
    ``_r.h5`` to ``_o.h5`` while finishing, so a file can be briefly absent.
    """
    for _ in range(10):
        try:
            with h5py.File(file_name, "r") as hdf:
                if "output" in hdf:
                    return True, True, _read(hdf, "output")
                if "error" in hdf:
                    return True, False, _read(hdf, "error")
                return False, False, None
        except FileNotFoundError:
            time.sleep(0.1)
    raise FileNotFoundError(f"Output file {file_name} not found.")


def get_runtime(file_name: str) -> float:
    """Seconds the function ran, ``0.0`` if the file has no ``runtime`` dataset."""
    with h5py.File(file_name, "r") as hdf:
        return _read(hdf, "runtime") if "runtime" in hdf else 0.0


def get_queue_id(file_name: Optional[str]) -> Optional[int]:
    """The queuing system's job id stored in the file; ``None`` if there is none or the file does not exist."""
    if file_name is None or not os.path.exists(file_name):
        return None
    with h5py.File(file_name, "r") as hdf:
        return _read(hdf, "queue_id") if "queue_id" in hdf else None


def get_cache_files(cache_directory: str) -> list[str]:
    """Absolute paths of all ``*_o.h5`` and ``*_i.h5`` files below ``cache_directory`` (recursive).

    Temporary files of an unfinished ``dump`` (``.<name>.<random>.tmp``) are never listed.
    """
    files = []
    for dirpath, _, filenames in os.walk(os.path.abspath(cache_directory)):
        files += [
            os.path.join(dirpath, name)
            for name in filenames
            if name.endswith(_CACHE_SUFFIXES) and not _is_temporary(name)
        ]
    return files


def get_cache_data(cache_directory: str) -> list[dict]:
    """One dict per cache file: each known dataset present, unpickled under its dataset name
    (``function``, ``input_args``, ``output``, ...), plus ``filename`` (absolute path) — executorlib's shape."""
    return [_get_content_of_file(file_name) | {"filename": file_name} for file_name in get_cache_files(cache_directory)]


def get_future_from_cache(cache_directory: str, cache_key: str) -> Future:
    """A future for the task stored under ``cache_key``: reads ``<key>_o.h5``, else ``<key>_i.h5``.

    Returns a done future with the result, or a pending future if the task has not finished. If the task
    failed, its stored exception is raised here (as executorlib does; it is not set on the future).

    Raises:
        FileNotFoundError: neither file exists.
    """
    file_name_out = os.path.join(cache_directory, cache_key + "_o.h5")
    file_name_in = os.path.join(cache_directory, cache_key + "_i.h5")
    if os.path.exists(file_name_out):
        file_name = file_name_out
    elif os.path.exists(file_name_in):
        file_name = file_name_in
    else:
        raise FileNotFoundError(
            f"Neither input nor output file for cache key {cache_key} found in cache directory {cache_directory}."
        )
    future: Future = Future()
    done, ok, value = get_output(file_name)
    if done and ok:
        future.set_result(value)
    elif done:
        raise value
    return future


def _write_datasets(hdf: h5py.File, data_dict: dict) -> None:
    for key, value in data_dict.items():
        name = group_dict.get(key)
        # executorlib suppresses h5py's "name already exists" ValueError; checking first is the same rule
        # without also swallowing a ValueError raised while pickling the value.
        if name is not None and name not in hdf:
            _create_dataset(hdf, name, value)


def _create_dataset(hdf: h5py.File, name: str, value: Any) -> None:
    hdf.create_dataset(
        name="/" + name,
        data=np.frombuffer(cloudpickle.dumps(value), dtype=np.uint8),
        compression="gzip",
    )


def _read(hdf: h5py.File, name: str) -> Any:
    # [()] gives a uint8 array (current format) or an np.void scalar (older executorlib); both have tobytes().
    return cloudpickle.loads(hdf["/" + name][()].tobytes())


def _get_content_of_file(file_name: str) -> dict:
    with h5py.File(file_name, "r") as hdf:
        return {name: _read(hdf, name) for name in group_dict.values() if name in hdf}


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(_TMP_SUFFIX)
