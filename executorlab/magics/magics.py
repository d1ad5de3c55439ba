"""``%%submit`` and ``%executor``."""

import argparse
import ast
import concurrent.futures
import os
import sys

import cloudpickle
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from executorlab.brief import clip
from executorlab.display import future_bundle
from executorlab.magics import executor_command
from executorlab.magics.cell import cell_names, run_cell
from executorlab.magics.cell_future import CellFuture
from executorlab.magics.choice import ExecutorChoice


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 1, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer ≥ 0, got {text!r}")
    return value


def _names_text(inputs: dict, assigns: list) -> str:
    """What the views show as the arguments of a cell: ``reads a, b; assigns c``."""
    parts = [f"{verb} {', '.join(names)}" for verb, names in (("reads", list(inputs)), ("assigns", assigns)) if names]
    return clip("; ".join(parts))


@magics_class
class ExecutorlabMagics(Magics):
    def __init__(self, shell):
        super().__init__(shell)
        self.choice = ExecutorChoice(shell)

    @magic_arguments()
    @argument("-e", "--executor", metavar="EXECUTOR",
              help="a variable holding an executor, or the name of one started from the Executors panel "
                   "(default: the notebook's current one, see %%executor use)")
    @argument("-o", "--output", metavar="VAR", help="store the cell's Future in the variable VAR")
    @argument("--cores", type=_positive_int, metavar="N", help="MPI ranks to run the cell on (resource_dict['cores'])")
    @argument("--threads-per-core", type=_positive_int, metavar="T", help="threads per rank (OMP_NUM_THREADS and the like)")
    @argument("--gpus-per-core", type=_count, metavar="G", help="GPUs per rank")
    @argument("--cwd", metavar="DIR", help="working directory of the task")
    @argument("--cache-key", metavar="K", help="cache the result under this key (the executor needs a cache_directory)")
    @argument("--block", action="store_true",
              help="wait for the task: its output streams into the cell, the names it assigned come back and its value is shown")
    @cell_magic
    def submit(self, line: str, cell: str):
        """Run the cell as a task of an executorlab executor.

        The names the cell reads are sent with it (a Future it reads is waited for, and the cell sees its
        result); the names it assigns come back into the notebook when the task finishes — with --block,
        or once its Future's result() is asked for or it is awaited. The value of the cell's last
        expression is the Future's result. What the cell prints shows in the cell as it is written, each
        line prefixed with its MPI rank when --cores is more than 1.

        Without --block the cell returns at once with the task's Future, shown as a live status line.
        """
        options = parse_argstring(self.submit, line)
        if options.output is not None and not options.output.isidentifier():
            raise UsageError(f"argument -o/--output: must be a Python name, got {options.output!r}")
        executor = self.choice.resolve(options.executor) if options.executor else self.choice.current()
        resource_dict = {
            key: value
            for key, value in {
                "cores": options.cores,
                "threads_per_core": options.threads_per_core,
                "gpus_per_core": options.gpus_per_core,
                "cwd": os.path.abspath(options.cwd) if options.cwd else None,
                "cache_key": options.cache_key,
            }.items()
            if value is not None
        }
        if options.cache_key is not None and executor._cache_directory is None:
            raise UsageError(
                "argument --cache-key: the executor has no cache_directory to keep the result in; "
                "create it with cache_directory=... or leave --cache-key out"
            )
        label = f"%%submit In[{self.shell.execution_count}]"
        filename = f"<{label}>"
        try:
            tree = ast.parse(cell, filename)
        except SyntaxError as error:
            raise UsageError(f"the cell is not Python that can run on a worker: {error.msg} (line {error.lineno})") from None
        names = cell_names(tree)
        inputs = self._inputs(names.reads)
        future = CellFuture(self.shell.user_ns)
        future.view = "cell" if options.block else "live"
        if not options.block:
            future.on_stream = future.collect
        try:
            executor._submit(run_cell, (cell, filename, inputs, names.assigns), {}, resource_dict, label=label,
                             future=future, args_text=_names_text(inputs, names.assigns))
        except ValueError as error:  # the bridge refused the resources
            raise UsageError(str(error)) from None
        except Exception as error:
            self._explain_unsendable(inputs, error)
            raise
        if options.output is not None:
            self.shell.user_ns[options.output] = future
        if not options.block:
            return future
        # The bundle itself (raw): IPython's formatters would cost more than the task's round trip.
        display(future_bundle(future), raw=True)
        try:
            concurrent.futures.wait([future])
        except KeyboardInterrupt:
            self._cancel(executor, future)
            raise
        return future.result()

    def _inputs(self, reads: list) -> dict:
        namespace, hidden = self.shell.user_ns, self.shell.user_ns_hidden
        return {
            name: namespace[name]
            for name in reads
            if name in namespace and not (name in hidden and hidden[name] is namespace[name])
        }

    @staticmethod
    def _explain_unsendable(inputs: dict, error: Exception) -> None:
        """Name the variable that cannot be pickled instead of leaving the user to guess."""
        for name, value in inputs.items():
            if isinstance(value, concurrent.futures.Future):
                continue
            try:
                cloudpickle.dumps(value)
            except Exception as cause:
                raise UsageError(
                    f"the cell reads {name!r} ({type(value).__name__}), which cannot be sent to a worker: {cause}; "
                    "create it inside the cell instead"
                ) from None

    @staticmethod
    def _cancel(executor, future: CellFuture) -> None:
        if future.cancel() or future.task_id is None:
            return
        client = executor._client
        if client is not None:
            client.send({"type": "cancel", "task_id": future.task_id})
        print(f"%%submit: cancelled {future.label}", file=sys.stderr)

    @line_magic
    def executor(self, line: str):
        return executor_command.run(self, line)

    executor.__doc__ = executor_command.HELP
