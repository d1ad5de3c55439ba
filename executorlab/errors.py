"""Exceptions raised by executorlab itself (the user's own exceptions travel back unchanged)."""


class RemoteTraceback(Exception):
    """Set as ``__cause__`` of an exception raised in a worker; its text is the worker's traceback.

    Same idea as ``concurrent.futures.process._RemoteTraceback``: printing the exception shows where it
    happened on the remote side as well as where ``result()`` re-raised it.
    """

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


class ExecutorlabWorkerError(RuntimeError):
    """The worker process died or could not run the task (not an exception of the function itself)."""


class ExecutorlabJobError(ExecutorlabWorkerError):
    """A cluster executor's batch job ended without a result: its submission failed, or the batch system
    ended it (TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, ...) or it crashed. The message names the job,
    the batch system's state and the end of the job's stderr."""


class BridgeConnectionError(ConnectionError):
    """The bridge could not be reached, or stopped while a task was pending."""
