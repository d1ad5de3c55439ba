"""Futures as arguments: how they are found in args/kwargs and how results are selected from them."""

import io
from concurrent.futures import CancelledError, Future
from typing import Any

import cloudpickle


class TaskFuture(Future):
    """The future of a call the bridge runs: a ``concurrent.futures.Future`` that knows its task.

    Displayed in a notebook it is a live status line (state, runtime, cores, host) linking to the task in
    the Executors panel; elsewhere its text says the same once.
    """

    task_id = None
    label = None
    cores = 1
    # Where its output shows in a notebook: "cell" (streamed into the running cell) or "live" (the status
    # line shows it, for a %%submit cell that returned at once).
    view = "cell"
    # callable(name, text) taking its stdout/stderr instead of sys.stdout/sys.stderr (I/O thread).
    on_stream = None

    def _repr_mimebundle_(self, include=None, exclude=None):
        from executorlab.display import future_bundle

        return future_bundle(self)

    def __repr__(self) -> str:
        from executorlab.display import future_text

        return future_text(self)


def notify_cancelled(future: Future) -> None:
    """Move a cancelled future on to CANCELLED_AND_NOTIFIED, once, as an executor's worker would.

    Until then ``wait``/``as_completed`` do not count it; calling the stdlib method twice raises, and the
    public API cannot tell the two states apart, hence the look at ``_state``.
    """
    with future._condition:
        if future._state != "CANCELLED":
            return
    future.set_running_or_notify_cancel()


def cancel_future(future: Future) -> bool:
    """Cancel a pending future and notify its waiters; False if it already runs or finished."""
    if not future.cancel():
        return False
    notify_cancelled(future)
    return True


class FutureSelector(Future):
    """A future of one item of another future's result: ``result()[selector]``.

    Returned by :func:`get_item_from_future` and :func:`split_future`; usable as an argument of ``submit``
    like any future, so only the selected item travels to the dependent task.
    """

    def __init__(self, future: Future, selector):
        super().__init__()
        self.future = future
        self.selector = selector
        future.add_done_callback(self._copy_outcome)

    def _copy_outcome(self, future: Future) -> None:
        if future.cancelled():
            cancel_future(self)
            return
        error = future.exception()
        if error is not None:
            self.set_exception(error)
            return
        value = future.result()
        try:
            self.set_result(None if value is None else value[self.selector])
        except Exception as selection_error:  # the selector does not fit the result
            self.set_exception(selection_error)


def get_item_from_future(future: Future, key) -> FutureSelector:
    """A future of ``future.result()[key]``."""
    return FutureSelector(future, key)


def split_future(future: Future, n: int) -> list:
    """``n`` futures, one per item of a future whose result is a sequence of length ``n``."""
    return [FutureSelector(future, i) for i in range(n)]


def _root(future: Future):
    """The executorlab future a (possibly nested) selector refers to, and the selectors to apply."""
    selectors = []
    while isinstance(future, FutureSelector):
        selectors.append(future.selector)
        future = future.future
    return future, tuple(reversed(selectors))


class UpstreamFailed(Exception):
    """An argument's future failed or was cancelled before submission: the new task must not run."""

    def __init__(self, future: Future):
        super().__init__()
        self.future = future


class UnfinishedForeignFuture(Exception):
    """An argument is a future this bridge does not know and it is not done yet."""

    def __init__(self, future: Future):
        super().__init__()
        self.future = future


class ArgumentPickler(cloudpickle.CloudPickler):
    """cloudpickle that replaces every Future it meets, at any depth, by a reference.

    A future of a task the bridge runs becomes ``("dep", task_id, selectors)``: a dependency the bridge
    waits for. A future that is already done becomes ``("val", value)``: its value travels inline.
    The worker's side is ``executorlab.worker.arguments``.
    """

    def __init__(self, file, task_ids: dict, allow_futures: bool):
        super().__init__(file)
        self.task_ids = task_ids
        self.allow_futures = allow_futures
        self.dependencies = []

    def persistent_id(self, obj: Any):
        if not isinstance(obj, Future):
            return None
        if not self.allow_futures:
            raise ValueError("Future objects are not supported as input if disable_dependencies=True.")
        if obj.done():
            if obj.cancelled() or obj.exception() is not None:
                raise UpstreamFailed(obj)
            return ("val", obj.result())
        root, selectors = _root(obj)
        task_id = self.task_ids.get(id(root))
        if task_id is None or root.done():
            raise UnfinishedForeignFuture(obj)
        if task_id not in self.dependencies:
            self.dependencies.append(task_id)
        return ("dep", task_id, selectors)


def dumps_arguments(value, task_ids: dict, allow_futures: bool = True):
    """(blob, dependency task ids) of ``(args, kwargs)``."""
    buffer = io.BytesIO()
    pickler = ArgumentPickler(buffer, task_ids, allow_futures)
    pickler.dump(value)
    return buffer.getvalue(), pickler.dependencies


def upstream_exception(future: Future) -> BaseException:
    if future.cancelled():
        return CancelledError("a future passed as argument was cancelled")
    return future.exception()
