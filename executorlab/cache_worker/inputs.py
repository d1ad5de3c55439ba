"""Read a cluster job's ``<key>_i.h5`` and put the dependencies' results where its arguments name them.

A dependency marker is a plain dict ``{"executorlab_dependency": <key>, "selectors": [...]}`` (what
``executorlab.cache.key`` writes for a future of a cached call), anywhere in lists, tuples, dicts and sets
of the arguments. Its value is, in this order, the dataset ``executorlab_dependency_<key>`` of the input
file (the bridge puts results it already has there), or the ``output`` of the ``_o.h5`` file that the
root attribute ``executorlab_dependencies`` (a JSON object ``{key: path}``) names for the key.
"""

import copy
import json
import os
from typing import Any, Callable, Optional

import h5py

from executorlab.cache.hdf import _read, get_output, load

INPUT_SUFFIX = "_i.h5"
OUTPUT_SUFFIX = "_o.h5"
DEPENDENCY_DATASET_PREFIX = "executorlab_dependency_"
DEPENDENCIES_ATTRIBUTE = "executorlab_dependencies"
MARKER_KEY = "executorlab_dependency"
MARKER_SELECTORS = "selectors"


class InputError(Exception):
    """The call cannot start: its input file or a dependency's result is missing or unusable (exit 2)."""


class DependencyError(InputError, RuntimeError):
    """A dependency's result is not there: its file is missing or holds an error."""


class Call:
    """What rank 0 read: the call (``fn``, ``args``, ``kwargs``) or, when it could not be unpickled or its
    arguments not completed, ``failure`` = ``(exception, traceback text)``, which becomes the call's error."""

    def __init__(self, path: str):
        self.path = path
        self.fn: Any = None
        self.args: tuple = ()
        self.kwargs: dict = {}
        self.error_log_file: Optional[str] = None
        self.failure: Optional[tuple] = None
        self.attributes: dict = {}


def output_path(input_path: str) -> str:
    return input_path[: -len(INPUT_SUFFIX)] + OUTPUT_SUFFIX


def check_input(path: str) -> dict:
    """The root attributes of a readable input file of executorlib's layout; else InputError."""
    if not path.endswith(INPUT_SUFFIX):
        raise InputError(f"{path} is not a cache input file: its name must end with {INPUT_SUFFIX}")
    if not os.path.isfile(path):
        raise InputError(f"input file {path} does not exist")
    try:
        with h5py.File(path, "r") as hdf:
            if "function" not in hdf or not isinstance(hdf["function"], h5py.Dataset):
                raise InputError(
                    f"{path} is not a cache input file of executorlib's layout: it has no 'function' dataset"
                )
            return {name: _text(value) for name, value in hdf.attrs.items()}
    except InputError:
        raise
    except Exception as error:  # not HDF5, truncated, no permission, ...
        raise InputError(f"cannot read input file {path}: {type(error).__name__}: {error}") from error


def dependency_paths(path: str, attributes: dict) -> dict:
    """``{key: absolute path of its _o.h5}`` from the ``executorlab_dependencies`` attribute (relative
    paths are taken from the input file's folder)."""
    raw = attributes.get(DEPENDENCIES_ATTRIBUTE)
    if raw is None:
        return {}
    try:
        paths = json.loads(raw) if isinstance(raw, str) else None
    except ValueError as error:
        raise InputError(f"attribute {DEPENDENCIES_ATTRIBUTE} of {path} is not JSON: {error}") from error
    if not isinstance(paths, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in paths.items()):
        raise InputError(f"attribute {DEPENDENCIES_ATTRIBUTE} of {path} must be a JSON object of key -> file path")
    folder = os.path.dirname(os.path.abspath(path))
    return {key: os.path.join(folder, value) for key, value in paths.items()}


def read_call(path: str) -> Call:
    """Rank 0's reading of the input file.

    Raises:
        InputError: the file is missing, not HDF5 or not of executorlib's layout, or a dependency's result
            is missing (DependencyError). A function or arguments that cannot be unpickled, or a selector
            that does not apply to its dependency's result, are the call's failure instead.
    """
    import traceback

    call = Call(path)
    call.attributes = check_input(path)
    paths = dependency_paths(path, call.attributes)
    try:
        data = load(path)
    except Exception as error:
        call.failure = (error, traceback.format_exc())
        call.error_log_file = _error_log_file(path)
        return call
    call.fn = data["fn"]
    call.error_log_file = data.get("error_log_file")
    fetch = _Fetcher(path, paths)
    try:
        call.args = substitute(data["args"], fetch)
        call.kwargs = substitute(data["kwargs"], fetch)
    except DependencyError:
        raise
    except Exception as error:  # a selector that does not fit, a broken container
        call.args, call.kwargs = data["args"], data["kwargs"]
        call.failure = (error, traceback.format_exc())
    return call


class _Fetcher:
    """A dependency's result by key, read once."""

    def __init__(self, path: str, paths: dict):
        self.path = path
        self.paths = paths
        self.values: dict = {}

    def __call__(self, key: str) -> Any:
        if key not in self.values:
            self.values[key] = self._read(key)
        return self.values[key]

    def _read(self, key: str) -> Any:
        dataset = DEPENDENCY_DATASET_PREFIX + key
        try:
            with h5py.File(self.path, "r") as hdf:
                if dataset in hdf:
                    return _read(hdf, dataset)
        except Exception as error:
            raise DependencyError(
                f"the result of dependency {key} in dataset {dataset} of {self.path} cannot be read: "
                f"{type(error).__name__}: {error}"
            ) from error
        file_name = self.paths.get(key)
        if file_name is None:
            raise DependencyError(
                f"no result for dependency {key}: {self.path} has neither a dataset {dataset} nor a path for it "
                f"in its attribute {DEPENDENCIES_ATTRIBUTE}"
            )
        try:
            done, ok, value = get_output(file_name)
        except FileNotFoundError as error:
            raise DependencyError(f"dependency {key} has no result: its file {file_name} does not exist") from error
        except Exception as error:
            raise DependencyError(
                f"the result of dependency {key} in {file_name} cannot be read: {type(error).__name__}: {error}"
            ) from error
        if not done:
            raise DependencyError(f"dependency {key} has not finished: {file_name} holds neither output nor error")
        if not ok:
            raise DependencyError(f"dependency {key} failed: {file_name} holds the error {type(value).__name__}: {value}")
        return value


def is_marker(value: Any) -> bool:
    return (
        type(value) is dict
        and len(value) == 2
        and isinstance(value.get(MARKER_KEY), str)
        and isinstance(value.get(MARKER_SELECTORS), (list, tuple))
    )


def substitute(value: Any, fetch: Callable[[str], Any]) -> Any:
    """``value`` with every dependency marker inside replaced by its selected result. Containers without a
    marker are returned as they are (same object); changed ones are rebuilt with their own type."""
    return _Substitution(fetch).visit(value)


class _Substitution:
    def __init__(self, fetch: Callable[[str], Any]):
        self.fetch = fetch
        self.visiting: set = set()  # ids of the containers on the current path: a cycle is left alone

    def visit(self, value: Any) -> Any:
        if is_marker(value):
            result = self.fetch(value[MARKER_KEY])
            for selector in value[MARKER_SELECTORS]:
                result = result[selector]
            return result
        if not isinstance(value, (list, tuple, dict, set, frozenset)) or id(value) in self.visiting:
            return value
        self.visiting.add(id(value))
        try:
            return self._rebuild(value)
        finally:
            self.visiting.discard(id(value))

    def _rebuild(self, value):
        if isinstance(value, dict):
            changed = {}
            for key, item in value.items():
                new = self.visit(item)
                if new is not item:
                    changed[key] = new
            if not changed:
                return value
            if type(value) is dict:
                return {key: changed[key] if key in changed else item for key, item in value.items()}
            result = copy.copy(value)  # OrderedDict, defaultdict, ...: keeps its type and settings
            result.update(changed)
            return result
        items = [self.visit(item) for item in value]
        if all(new is old for new, old in zip(items, value)):
            return value
        if type(value) in (list, tuple, set, frozenset):
            return type(value)(items)
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
            return type(value)(*items)
        if isinstance(value, list):
            result = copy.copy(value)
            result[:] = items
            return result
        return type(value)(items)


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _error_log_file(path: str) -> Optional[str]:
    """The error_log_file of an input whose call cannot be unpickled as a whole (None if unreadable too)."""
    try:
        with h5py.File(path, "r") as hdf:
            return _read(hdf, "error_log_file") if "error_log_file" in hdf else None
    except Exception:
        return None
