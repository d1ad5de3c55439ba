"""Cache keys and the input datasets of a cache file, computed in the kernel (the bridge never unpickles).

The key is executorlib's: the function's name plus the md5 of ``cloudpickle.dumps({"fn", "args",
"kwargs"})`` with the ipykernel temporary folder removed, so a call without futures gets the same key
as in executorlib. A future in the arguments stands for its task's own cache key (and the items
selected from it), not for its value: a rerun of a notebook computes the same keys before anything
ran, and every step hits the cache.
"""

import hashlib
import io
import operator
import re
import weakref
from concurrent.futures import Future
from typing import Callable, Optional

import cloudpickle

from executorlab.futures import FutureSelector, UnfinishedForeignFuture, UpstreamFailed

# Keys of the futures of cached calls, kept as long as the future lives.
_keys: "weakref.WeakKeyDictionary[Future, str]" = weakref.WeakKeyDictionary()

_IPYKERNEL_FOLDER = re.compile(b"(?<=/ipykernel_)(.*)(?=/)")
_KEY_PATTERN = re.compile(r"^[^/\\\x00]{1,200}$")


def remember_key(future: Future, key: str) -> None:
    _keys[future] = key


def check_cache_key(key) -> str:
    """A cache key given by the user names one file in the cache directory: no folders, no dot files."""
    if not isinstance(key, str) or not _KEY_PATTERN.match(key) or key.startswith("."):
        raise ValueError(
            f"resource_dict['cache_key'] must be a file name of 1 to 200 characters without '/', '\\\\' or a "
            f"leading '.', got {key!r}"
        )
    return key


def function_name(fn: Callable) -> str:
    """executorlib's name of a callable: ``__name__``, else its class's name."""
    if hasattr(fn, "__name__"):
        return fn.__name__
    return type(fn).__name__


class _CachePickler(cloudpickle.CloudPickler):
    """cloudpickle that writes a future as a plain dict naming its task's cache key (and selectors), or,
    for a finished future without a key, as its value."""

    def reducer_override(self, obj):
        if isinstance(obj, Future):
            return _reduce_future(obj)
        return super().reducer_override(obj)


def _reduce_future(future: Future):
    selectors = []
    root = future
    while isinstance(root, FutureSelector):
        selectors.append(root.selector)
        root = root.future
    key = _keys.get(root)
    if key is not None:
        return dict, ([("executorlab_dependency", key), ("selectors", list(reversed(selectors)))],)
    if not future.done():
        # Its value decides the key: the call is sent once it is known.
        raise UnfinishedForeignFuture(future)
    if future.cancelled() or future.exception() is not None:
        raise UpstreamFailed(future)
    # Rebuilt with the standard library alone: executorlib reads these files too.
    return operator.getitem, ([future.result()], 0)


def _dumps(value) -> bytes:
    buffer = io.BytesIO()
    _CachePickler(buffer).dump(value)
    return buffer.getvalue()


def task_key(fn: Callable, args: tuple, kwargs: dict, cache_key: Optional[str] = None) -> str:
    if cache_key is not None:
        return check_cache_key(cache_key)
    binary = _dumps({"fn": fn, "args": args, "kwargs": kwargs})
    return function_name(fn) + hashlib.md5(_IPYKERNEL_FOLDER.sub(b"", binary)).hexdigest()


def input_blobs(args: tuple, kwargs: dict, resource_dict: dict) -> list:
    """The ``input_args``, ``input_kwargs`` and ``resource_dict`` datasets of the call's cache file."""
    return [_dumps(args), _dumps(kwargs), cloudpickle.dumps(resource_dict)]
