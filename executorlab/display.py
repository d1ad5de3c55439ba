"""How futures look in a notebook: a bundle for the extension's live renderer, and plain text elsewhere."""

from concurrent.futures import Future

FUTURE_MIME = "application/vnd.executorlab.future+json"
GRAPH_MIME = "application/vnd.executorlab.graph+json"


def future_state(future: Future) -> str:
    """The bridge's name of the future's state as seen in this process (a snapshot)."""
    if future.cancelled():
        return "cancelled"
    if future.done():
        return "error" if future.exception() is not None else "done"
    return "running" if future.running() else "queued"


def _bridge_instance():
    from executorlab.client import connection

    client = connection._client
    return client.instance_id if client is not None else None


def future_bundle(future) -> dict:
    """``{mime: data}`` for IPython's display: the live status line, with the plain text beside it."""
    bundle = {"text/plain": future_text(future)}
    if future.task_id is not None:
        bundle[FUTURE_MIME] = {
            "version": 1,
            "task_id": future.task_id,
            "bridge": _bridge_instance(),
            "label": future.label,
            "state": future_state(future),
            "cores": future.cores,
            "output": future.view,
        }
    return bundle


def future_text(future) -> str:
    state = future_state(future)
    parts = [f"<{type(future).__name__} {future.task_id or hex(id(future))} {state}"]
    if future.label:
        parts.append(future.label)
    if future.cores and future.cores > 1:
        parts.append(f"{future.cores} cores")
    if state == "error":
        parts.append(f"raised {type(future.exception()).__name__}")
    return ", ".join(parts) + ">"
