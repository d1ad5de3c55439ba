"""What the panel shows of a call's arguments and result: short texts made in about a microsecond.

Never ``repr()`` of an object of unknown size (a 1000-element array's repr takes ~2 ms): plain values are
shown, containers and arrays by type and size or shape.
"""

from concurrent.futures import Future

_PLAIN = (int, float, complex, bool, type(None))


def brief(value) -> str:
    """``1``, ``'hello'``, ``list[300]``, ``ndarray(1000, 3)``, ``MyClass``."""
    if isinstance(value, _PLAIN):
        return repr(value)[:24]
    if isinstance(value, str):
        return repr(value[:20]) + ("…" if len(value) > 20 else "")
    if isinstance(value, Future):
        return "<future>"
    own = getattr(type(value), "__brief__", None)
    if own is not None:  # a value that says itself what it is (a %%submit cell's result)
        return own(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return f"{type(value).__name__}[{len(value)}]"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple):
        return f"{type(value).__name__}{shape}"
    return type(value).__name__


def brief_arguments(args: tuple, kwargs: dict) -> str:
    """``1, 'a', list[300], x=ndarray(1000,)``, at most 120 characters."""
    return clip(", ".join([*map(brief, args), *(f"{k}={brief(v)}" for k, v in kwargs.items())]))


def clip(text: str, limit: int = 120) -> str:
    """``text``, ended with … when longer than ``limit``."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
