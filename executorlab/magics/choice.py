"""Which executor a magic means: a variable of the notebook, an executor started from the panel, or the
notebook's current one."""

from typing import Optional

from IPython.core.error import UsageError

from executorlab.executor import AttachedExecutor, BaseExecutor, SingleNodeExecutor, connect


class ExecutorChoice:
    """The notebook's current executor, as ``%executor use`` set it, else the one in its namespace."""

    def __init__(self, shell):
        self.shell = shell
        self.current_name: Optional[str] = None
        self._default: Optional[BaseExecutor] = None

    def notebook_executors(self) -> dict:
        """Variables of the notebook that hold a running executor."""
        hidden = self.shell.user_ns_hidden
        return {
            name: value
            for name, value in self.shell.user_ns.items()
            if isinstance(value, BaseExecutor) and not value._shutdown and not name.startswith("_")
            and hidden.get(name) is not value
        }

    def resolve(self, name: str) -> BaseExecutor:
        """The executor ``name`` stands for: a notebook variable, else an executor started from the panel."""
        value = self.shell.user_ns.get(name)
        if isinstance(value, BaseExecutor):
            if value._shutdown:
                raise UsageError(f"the executor {name!r} was shut down; create a new one or choose another")
            return value
        try:
            return connect(name)
        except ValueError as error:
            variables = ", ".join(sorted(self.notebook_executors())) or "none"
            raise UsageError(
                f"no executor {name!r}: it is neither a variable holding an executor (in this notebook: {variables}) "
                f"nor an executor started from the panel ({error})"
            ) from None

    def current(self) -> BaseExecutor:
        if self.current_name is not None:
            return self.resolve(self.current_name)
        found = self.notebook_executors()
        if len(found) == 1:
            return next(iter(found.values()))
        if len(found) > 1:
            raise UsageError(
                f"the notebook has several executors ({', '.join(sorted(found))}); choose one with "
                "`%executor use NAME` or `%%submit -e NAME`"
            )
        if self._default is None or self._default._shutdown:
            # Nothing chosen and nothing created: a SingleNodeExecutor of this machine's cores.
            self._default = SingleNodeExecutor()
        return self._default

    def describe(self, executor: BaseExecutor) -> str:
        if isinstance(executor, AttachedExecutor):
            return f"{executor._attach_name!r} (started from the panel)"
        for name, value in self.shell.user_ns.items():
            if value is executor and not name.startswith("_"):
                return f"{name} ({type(executor).__name__})"
        return f"{type(executor).__name__} (started for %%submit)"

    def use(self, name: str) -> BaseExecutor:
        executor = self.resolve(name)
        self.current_name = name
        return executor

    def close(self) -> None:
        if self._default is not None:
            self._default.shutdown(wait=False, cancel_futures=True)
