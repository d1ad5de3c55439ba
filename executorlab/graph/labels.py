"""Short node labels and longer hover values for the literal inputs of a graph."""

LABEL_LIMIT = 30
VALUE_LIMIT = 200


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(value) -> str:
    # executorlib's _short_object_name rules: containers item by item, objects and calls by their name.
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(item) for item in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_short(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_short(k)}: {_short(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if "object at" in text:
        return text[1:-1].split(maxsplit=1)[0].rsplit(".", maxsplit=1)[-1] + "()"
    if "<function" in text:
        return text.split()[1] + "()"
    if "\n" in text:
        return type(value).__name__ + "()"
    if "(" in text and ")" in text:
        return text.split("(", maxsplit=1)[0] + "()"
    if len(text) > 20:
        return text[:21] + "..."
    return text


def short_label(value) -> str:
    """The label drawn in an input's node (at most 30 characters)."""
    return clip(_short(value), LABEL_LIMIT)


def long_value(value) -> str:
    """The repr shown on hover (at most 200 characters)."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not lose the whole graph
        text = object.__repr__(value)
    return clip(text, VALUE_LIMIT)


def container_label(value, is_link) -> str:
    """A list, tuple or dict with ``$`` where a future (or a nested container of them) sits."""

    def item(x):
        return "$" if is_link(x) else _short(x)

    if isinstance(value, dict):
        text = "{" + ", ".join(f"{_short(k)}: {item(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, tuple):
        text = "(" + ", ".join(item(x) for x in value) + ("," if len(value) == 1 else "") + ")"
    else:
        text = "[" + ", ".join(item(x) for x in value) + "]"
    return clip(text, LABEL_LIMIT)
