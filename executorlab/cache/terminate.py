"""Cancel the cluster jobs recorded in a cache directory, as executorlib's ``terminate_tasks_in_cache``.

A task submitted to a queuing system is recorded in ``<key>_i.h5`` with its job id in the ``queue_id``
dataset. Terminating it cancels that job and removes the ``_i.h5`` file, so the task runs again when it is
next submitted. executorlib does this through pysqa; executorlab calls the scheduler's cancel command
directly (``scancel <id>`` for slurm, ``flux cancel <id>`` for flux — the same command lines pysqa runs).

Unlike executorlib (which asks the scheduler for the job's status first and ignores a failing cancel), a
cancel that fails raises ``RuntimeError`` with the command's stderr, and the ``_i.h5`` file is then kept.
"""

import os
import shutil
import subprocess
from typing import Callable, Optional

from executorlab.cache.hdf import get_queue_id

# backend -> cancel command; the job id is appended.
CANCEL_COMMANDS: dict[str, tuple[str, ...]] = {"slurm": ("scancel",), "flux": ("flux", "cancel")}

Runner = Callable[[list[str]], None]


def cancel_command(queue_id: int, backend: Optional[str]) -> list[str]:
    """The command line that cancels job ``queue_id`` on ``backend``."""
    _check_backend(backend)
    return [*CANCEL_COMMANDS[backend], str(queue_id)]


def run_command(command: list[str]) -> None:
    """Run a cancel command; the default runner of the terminate functions.

    Raises:
        RuntimeError: the command is not on PATH, or it exited with a non-zero status (message has stderr).
    """
    if shutil.which(command[0]) is None:
        raise RuntimeError(
            f"cannot run {' '.join(command)!r}: the command {command[0]!r} was not found on PATH. Terminating "
            f"tasks in the cache must run where the queuing system's commands are available (e.g. a login node "
            f"of the cluster that the scheduler is reachable from)."
        )
    process = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)!r} failed with exit status {process.returncode}: "
            f"{process.stderr.strip() or '(no output on stderr)'}"
        )


def terminate_tasks_in_cache(
    cache_directory: str,
    pysqa_config_directory: Optional[str] = None,
    backend: Optional[str] = None,
    *,
    runner: Optional[Runner] = None,
) -> None:
    """Cancel the job of every ``*_i.h5`` file below ``cache_directory`` that has a ``queue_id``, and remove
    every ``*_i.h5`` file (with or without a job).

    Args:
        cache_directory: the executor's cache directory.
        pysqa_config_directory: accepted for compatibility with executorlib and unused: executorlab does not
            use pysqa, it runs the scheduler's cancel command itself.
        backend: ``"slurm"`` or ``"flux"``; needed only if some file has a ``queue_id``.
        runner: runs one command line (a list of strings); defaults to ``run_command``.

    Raises:
        ValueError: a job has to be cancelled and ``backend`` is not one of ``"slurm"``, ``"flux"``. Checked
            before anything is cancelled or removed.
        RuntimeError: a cancel command is missing or failed (see ``run_command``); files handled before it are
            already gone, the failing one and the rest are kept.
    """
    file_names = []
    for dirpath, _, names in os.walk(cache_directory):
        file_names += [os.path.join(dirpath, name) for name in names if name.endswith("_i.h5")]
    tasks = [(file_name, get_queue_id(file_name)) for file_name in file_names]
    if any(queue_id is not None for _, queue_id in tasks):
        _check_backend(backend)
    for file_name, queue_id in tasks:
        _terminate(file_name, queue_id, backend, runner or run_command)


def terminate_task_in_cache(
    cache_directory: str,
    cache_key: str,
    pysqa_config_directory: Optional[str] = None,
    backend: Optional[str] = None,
    *,
    runner: Optional[Runner] = None,
) -> None:
    """Cancel the job recorded in ``<cache_directory>/<cache_key>_i.h5`` (if it has a ``queue_id``) and remove
    that file. Arguments and errors as ``terminate_tasks_in_cache``.

    Raises:
        FileNotFoundError: there is no ``<cache_key>_i.h5`` (as in executorlib).
    """
    file_name = os.path.join(cache_directory, cache_key + "_i.h5")
    _terminate(file_name, get_queue_id(file_name), backend, runner or run_command)


def _terminate(file_name: str, queue_id: Optional[int], backend: Optional[str], runner: Runner) -> None:
    if queue_id is not None:
        runner(cancel_command(queue_id, backend))
    os.remove(file_name)


def _check_backend(backend: Optional[str]) -> None:
    if backend not in CANCEL_COMMANDS:
        allowed = ", ".join(repr(name) for name in CANCEL_COMMANDS)
        raise ValueError(
            f"backend must be one of {allowed} to cancel the queuing system jobs recorded in the cache, "
            f"got {backend!r}."
        )
