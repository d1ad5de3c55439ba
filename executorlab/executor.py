"""The public executor classes: executorlib's constructors and methods, run by the bridge."""

import concurrent.futures
import inspect
import json
import threading
import uuid
from concurrent.futures import Future
from typing import Callable, Optional

import cloudpickle

from executorlab.client.connection import BridgeClient, get_client


def _function_name(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _check_no_resource_dict_parameter(fn) -> None:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return
    if "resource_dict" in parameters:
        raise ValueError(
            "The parameter resource_dict is used internally in executorlab, "
            "so it cannot be used as a parameter in the submitted functions."
        )


class BaseExecutor(concurrent.futures.Executor):
    """A ``concurrent.futures.Executor`` whose tasks the executorlab bridge schedules and runs."""

    _backend = "local"

    def __init__(self, *, max_workers: Optional[int], max_cores: Optional[int], resource_dict: Optional[dict],
                 openmpi_oversubscribe: bool):
        self._options = {
            "max_workers": max_workers,
            "max_cores": max_cores,
            "resource_dict": dict(resource_dict or {}),
            "block_allocation": False,
            "openmpi_oversubscribe": bool(openmpi_oversubscribe),
        }
        self._id = f"e-{uuid.uuid4().hex[:16]}"
        self._name = type(self).__name__
        self._lock = threading.Lock()
        self._shutdown = False
        self._futures = set()
        self._valid_resource_dicts = set()
        self._client: Optional[BridgeClient] = None
        self._connect()

    def _connect(self) -> BridgeClient:
        """Create this executor on the current bridge (again, after a bridge restart)."""
        client = get_client()
        client.request(
            {
                "type": "create_executor",
                "executor_id": self._id,
                "name": self._name,
                "backend": self._backend,
                "options": self._options,
            }
        )
        self._client = client
        self._valid_resource_dicts.clear()
        return client

    def _current_client(self) -> BridgeClient:
        client = self._client
        if client is None or not client.is_current():
            client = self._connect()
        return client

    def _check_resource_dict(self, client: BridgeClient, resource_dict: dict) -> None:
        # The bridge is the one judge of what is valid; ask once per distinct dict, then remember.
        try:
            key = json.dumps(resource_dict, sort_keys=True)
        except TypeError:
            raise TypeError(f"resource_dict must hold plain JSON values, got {resource_dict!r}") from None
        if key in self._valid_resource_dicts:
            return
        client.request({"type": "validate_resources", "resource_dict": resource_dict})
        self._valid_resource_dicts.add(key)

    def submit(self, fn: Callable, /, *args, resource_dict: Optional[dict] = None, **kwargs) -> Future:
        """Schedule ``fn(*args, **kwargs)`` with ``resource_dict`` (cores, threads_per_core, cwd, ...)."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            _check_no_resource_dict_parameter(fn)
            resource_dict = dict(resource_dict or {})
            client = self._current_client()
            if resource_dict:
                self._check_resource_dict(client, resource_dict)
            blobs = [cloudpickle.dumps(fn), cloudpickle.dumps(args), cloudpickle.dumps(kwargs)]
            future = Future()
            task_id = f"t-{uuid.uuid4().hex}"
            client.submit(
                {
                    "type": "submit",
                    "task_id": task_id,
                    "executor_id": self._id,
                    "fn_name": _function_name(fn)[:256],
                    "resource_dict": resource_dict,
                },
                blobs,
                future,
            )
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)
            return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            pending = list(self._futures)
            client = self._client
        if client is None or not client.is_current():
            return
        if cancel_futures:
            for future in pending:
                future.cancel()
        message = {"type": "shutdown_executor", "executor_id": self._id, "wait": wait, "cancel_futures": cancel_futures}
        if wait:
            client.request(message, timeout=None)
            concurrent.futures.wait(pending)
        else:
            client.send({**message, "request_id": f"s-{self._id}"})


def _not_yet(name: str, value, default) -> None:
    if value != default:
        raise NotImplementedError(f"{name}={value!r} is not supported by executorlab yet (only {default!r})")


class SingleNodeExecutor(BaseExecutor):
    """Run each call in its own worker process on this machine, ``mpiexec -n cores`` for MPI calls.

    Same parameters as ``executorlib.SingleNodeExecutor``.
    """

    def __init__(
        self,
        max_workers: Optional[int] = None,
        cache_directory: Optional[str] = None,
        max_cores: Optional[int] = None,
        resource_dict: Optional[dict] = None,
        hostname_localhost: Optional[bool] = None,
        block_allocation: bool = False,
        init_function: Optional[Callable] = None,
        disable_dependencies: bool = False,
        refresh_rate: float = 0.01,
        plot_dependency_graph: bool = False,
        plot_dependency_graph_filename: Optional[str] = None,
        export_workflow_filename: Optional[str] = None,
        log_obj_size: bool = False,
        wait: bool = True,
        restart_limit: int = 0,
        openmpi_oversubscribe: bool = False,
    ):
        if not wait:
            raise ValueError("wait=False is only supported by the cluster executors (SlurmClusterExecutor, FluxClusterExecutor)")
        _not_yet("cache_directory", cache_directory, None)
        _not_yet("block_allocation", block_allocation, False)
        _not_yet("init_function", init_function, None)
        _not_yet("plot_dependency_graph", plot_dependency_graph, False)
        _not_yet("plot_dependency_graph_filename", plot_dependency_graph_filename, None)
        _not_yet("export_workflow_filename", export_workflow_filename, None)
        _not_yet("restart_limit", restart_limit, 0)
        super().__init__(
            max_workers=max_workers,
            max_cores=max_cores,
            resource_dict=resource_dict,
            openmpi_oversubscribe=openmpi_oversubscribe,
        )
