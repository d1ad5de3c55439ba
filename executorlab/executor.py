"""The public executor classes: executorlib's constructors and methods, run by the bridge."""

import concurrent.futures
import inspect
import json
import math
import os
import re
import threading
import types
import uuid
import warnings
from concurrent.futures import Future
from typing import Callable, Optional

import cloudpickle

from executorlab.brief import brief_arguments
from executorlab.cache import key as cache_key
from executorlab.client.connection import BridgeClient, get_client
from executorlab.errors import BridgeConnectionError
from executorlab.futures import (
    UnfinishedForeignFuture,
    TaskFuture,
    UpstreamFailed,
    cancel_future,
    dumps_arguments,
    upstream_exception,
)
from executorlab.graph import GraphRecorder, plot_recorder


_HAS_RESOURCE_DICT_PARAMETER = {}


def _has_resource_dict_parameter(fn) -> bool:
    code = getattr(fn, "__code__", None)
    if code is not None:  # a plain function: its parameter names without the cost of inspect
        return "resource_dict" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    try:
        return _HAS_RESOURCE_DICT_PARAMETER[fn]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        pass
    try:
        found = "resource_dict" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        found = False
    if isinstance(fn, (types.BuiltinFunctionType, type)):
        # Builtins and classes live as long as the process (partials and the like would pile up);
        # inspect costs ~0.2 ms a call for them.
        _HAS_RESOURCE_DICT_PARAMETER[fn] = found
    return found


def _check_no_resource_dict_parameter(fn) -> None:
    if _has_resource_dict_parameter(fn):
        raise ValueError(
            "The parameter resource_dict is used internally in executorlab, "
            "so it cannot be used as a parameter in the submitted functions."
        )


class BaseExecutor(concurrent.futures.Executor):
    """A ``concurrent.futures.Executor`` whose tasks the executorlab bridge schedules and runs."""

    _backend = "local"

    def __init__(self, *, max_workers: Optional[int], max_cores: Optional[int], resource_dict: Optional[dict],
                 openmpi_oversubscribe: bool, disable_dependencies: bool = False, block_allocation: bool = False,
                 init_function: Optional[Callable] = None, restart_limit: int = 0,
                 cache_directory: Optional[str] = None, backend_options: Optional[dict] = None,
                 recorder: Optional[GraphRecorder] = None):
        self._options = {
            "max_workers": max_workers,
            "max_cores": max_cores,
            "resource_dict": dict(resource_dict or {}),
            "block_allocation": bool(block_allocation),
            "init_function": init_function is not None,
            "restart_limit": restart_limit,
            "openmpi_oversubscribe": bool(openmpi_oversubscribe),
            **(backend_options or {}),
        }
        self._init_blob = [cloudpickle.dumps(init_function)] if init_function is not None else []
        self._cache_directory = cache_directory
        self._dependencies = not disable_dependencies
        self._id = f"e-{uuid.uuid4().hex[:16]}"
        self._name = type(self).__name__
        self._lock = threading.Lock()
        self._shutdown = False
        self._futures = set()
        self._valid_resource_dicts = set()
        self._client: Optional[BridgeClient] = None
        # Plot mode (plot_dependency_graph & co.): calls are only recorded, the bridge is never contacted.
        self._recorder = recorder
        if recorder is None:
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
            },
            blobs=self._init_blob,
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
        client.request({"type": "validate_resources", "executor_id": self._id, "resource_dict": resource_dict})
        self._valid_resource_dicts.add(key)

    def submit(self, fn: Callable, /, *args, resource_dict: Optional[dict] = None, **kwargs) -> Future:
        """Schedule ``fn(*args, **kwargs)`` with ``resource_dict`` (cores, threads_per_core, cwd, ...).

        Futures anywhere in ``args``/``kwargs`` (nested in lists, tuples, dicts, sets, objects) are
        dependencies: the call runs once they are done, with their results in their place.
        """
        return self._submit(fn, args, kwargs, resource_dict)

    def _submit(self, fn: Callable, args: tuple, kwargs: dict, resource_dict: Optional[dict],
                label: Optional[str] = None, future: Optional[TaskFuture] = None,
                args_text: Optional[str] = None) -> TaskFuture:
        """submit(), with what the views show instead of the function's name and arguments, and the future to
        complete."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            _check_no_resource_dict_parameter(fn)
            if self._recorder is not None:
                return self._recorder.record(fn, args, kwargs, label=label, future=future)
            resource_dict = dict(resource_dict or {})
            client = self._current_client()
            if resource_dict:
                self._check_resource_dict(client, resource_dict)
            future = future if future is not None else TaskFuture()
            future.label = label
            future.cores = resource_dict.get("cores") or self._options["resource_dict"].get("cores") or 1
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)
        try:
            self._send(future, fn, args, kwargs, resource_dict, deferred=False, client=client, label=label,
                       args_text=args_text)
        except BaseException:
            self._futures.discard(future)
            raise
        return future

    def _send(self, future: Future, fn, args, kwargs, resource_dict: dict, deferred: bool = True, client=None,
              label: Optional[str] = None, args_text: Optional[str] = None) -> None:
        """Pickle and send the call; errors raise at submit() or, for a deferred call, fail its future."""
        client = client or self._current_client()
        try:
            arguments_blob, dependencies = dumps_arguments((args, kwargs), client.task_ids, self._dependencies)
            cache, cache_blobs = self._cache_of(fn, args, kwargs, resource_dict)
        except UpstreamFailed as failed:
            if failed.future.cancelled():
                cancel_future(future)
            else:
                future.set_exception(upstream_exception(failed.future))
            return
        except UnfinishedForeignFuture as foreign:
            # Not a task of this bridge (or, for a cached call, one without a key: its value is part of
            # this call's key): send the call once that future is done.
            foreign.future.add_done_callback(lambda _: self._send(future, fn, args, kwargs, resource_dict, label=label,
                                                                     args_text=args_text))
            return
        except Exception as error:
            if not deferred:
                raise
            if not future.done():
                future.set_exception(error)
            return
        if future.done():  # cancelled by the caller while it waited for a foreign future
            return
        if cache is not None:
            cache_key.remember_key(future, cache["key"])
        client.submit(
            {
                "type": "submit",
                "task_id": client.new_task_id(),
                "executor_id": self._id,
                "fn_name": (label or cache_key.function_name(fn))[:256],
                "args": args_text if args_text is not None else brief_arguments(args, kwargs),
                "resource_dict": resource_dict,
                "dependencies": dependencies,
                "cache": cache,
            },
            [cloudpickle.dumps(fn), arguments_blob, *cache_blobs],
            future,
        )

    def _cache_of(self, fn, args, kwargs, resource_dict: dict):
        """({directory, key}, the cache file's input pickles) of a cached call, else (None, [])."""
        directory = resource_dict.get("cache_directory") or self._cache_directory
        if directory is None:
            return None, []
        key = cache_key.task_key(fn, args, kwargs, resource_dict.get("cache_key"))
        blobs = cache_key.input_blobs(args, kwargs, {**self._options["resource_dict"], **resource_dict})
        return {"directory": os.path.abspath(directory), "key": key}, blobs

    def map(self, fn: Callable, *iterables, timeout: Optional[float] = None, chunksize: int = 1):
        """``concurrent.futures.Executor.map``; an iterable given as a future is waited for first."""
        iterables = [it.result() if isinstance(it, Future) else it for it in iterables]
        return super().map(fn, *iterables, timeout=timeout, chunksize=chunksize)

    def batched(self, iterable: list, n: int) -> list:
        """Group futures into ``ceil(len/n)`` futures of lists of ``n`` results, in completion order.

        Failed inputs are skipped; a batch fails only when every input left for it failed.
        """
        if not self._dependencies:
            raise NotImplementedError("batched() needs dependencies; create the executor without disable_dependencies")
        futures = list(iterable)
        batches = [Future() for _ in range(math.ceil(len(futures) / n))]
        _Batcher(futures, batches, n)
        return batches

    @property
    def max_workers(self) -> Optional[int]:
        return self._options["max_workers"]

    @max_workers.setter
    def max_workers(self, value: int) -> None:
        if not self._options["block_allocation"]:
            raise NotImplementedError("max_workers can only be changed with block_allocation=True")
        if self._recorder is None:
            self._current_client().request({"type": "resize_executor", "executor_id": self._id, "max_workers": value})
        self._options["max_workers"] = value

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            pending = list(self._futures)
        if self._recorder is not None:
            self._recorder.finish()
            return
        if cancel_futures:
            for future in pending:
                cancel_future(future)
        if wait:
            self._finish(pending, cancel_futures)
        else:
            # Calls still waiting for foreign futures are sent when those finish, as executorlib does.
            threading.Thread(target=self._finish, args=(pending, cancel_futures), daemon=True).start()

    def _finish(self, pending: list, cancel_futures: bool) -> None:
        concurrent.futures.wait(pending)
        client = self._client
        if client is None or not client.is_current():
            return
        try:
            client.request(
                {"type": "shutdown_executor", "executor_id": self._id, "wait": True, "cancel_futures": cancel_futures},
                timeout=None,
            )
        except BridgeConnectionError:
            # The connection closed first (the interpreter is exiting after shutdown(wait=False)): its
            # bye makes the bridge shut the executor down.
            pass


class _Batcher:
    """Fills batch futures from input futures as they complete (executorlib's ``batched``)."""

    def __init__(self, futures: list, batches: list, n: int):
        self.lock = threading.Lock()
        self.batches = batches
        self.n = n
        self.results = []
        self.last_error = None
        self.remaining = len(futures)
        self.next_batch = 0
        for future in futures:
            future.add_done_callback(self.on_done)

    def on_done(self, future: Future) -> None:
        with self.lock:
            self.remaining -= 1
            if future.cancelled() or future.exception() is not None:
                self.last_error = upstream_exception(future)
            else:
                self.results.append(future.result())
            ready = []
            while self.next_batch < len(self.batches) and (
                len(self.results) >= self.n or (self.remaining == 0 and self.results)
            ):
                ready.append((self.batches[self.next_batch], self.results[: self.n]))
                self.results = self.results[self.n :]
                self.next_batch += 1
            failed = []
            if self.remaining == 0:
                failed = self.batches[self.next_batch :]
                self.next_batch = len(self.batches)
        for batch, values in ready:
            batch.set_result(values)
        for batch in failed:
            batch.set_exception(self.last_error)


def _default_block_workers(max_cores: Optional[int], resource_dict: Optional[dict]) -> int:
    """executorlib's number of warm workers when max_workers is not given."""
    cores = (resource_dict or {}).get("cores")
    if max_cores is not None:
        # A bad cores value is the bridge's to explain; here it only must not break the division.
        return max(1, int(max_cores) // (cores if isinstance(cores, int) and cores >= 1 else 1))
    cpus = os.cpu_count() or 1
    warnings.warn(
        f"max_workers parameter is not set, set default based on CPU count: max_workers={cpus}",
        UserWarning,
        stacklevel=3,
    )
    return cpus


def _not_yet(name: str, value, default) -> None:
    if value != default:
        raise NotImplementedError(f"{name}={value!r} is not supported by executorlab yet (only {default!r})")


_SCHEDULER_VARIABLE = re.compile(r"^(SLURM_[A-Z0-9_]{1,64}|FLUX_URI)$")


def _scheduler_env() -> dict:
    """The kernel's batch-system variables: steps go to its allocation or flux instance."""
    return {name: value for name, value in os.environ.items() if _SCHEDULER_VARIABLE.match(name)}


class _InteractiveExecutor(BaseExecutor):
    """The executors whose calls run in workers the bridge talks to: on this machine, srun steps, flux jobs."""

    def __init__(self, *, max_workers, cache_directory, max_cores, resource_dict, block_allocation, init_function,
                 disable_dependencies, plot_dependency_graph, plot_dependency_graph_filename,
                 export_workflow_filename, wait, restart_limit, openmpi_oversubscribe, backend_options=None):
        if not wait:
            raise ValueError("wait=False is only supported by the cluster executors (SlurmClusterExecutor, FluxClusterExecutor)")
        if init_function is not None and not block_allocation:
            raise ValueError("init_function needs block_allocation=True: it prepares long-lived workers")
        if restart_limit and not block_allocation:
            raise ValueError("restart_limit needs block_allocation=True: only long-lived workers are restarted")
        if disable_dependencies and plot_dependency_graph:
            raise ValueError("plot_dependency_graph needs dependencies; do not set disable_dependencies=True")
        if block_allocation and max_workers is None:
            max_workers = self._default_workers(max_cores, resource_dict)
        super().__init__(
            max_workers=max_workers,
            max_cores=max_cores,
            resource_dict=resource_dict,
            openmpi_oversubscribe=openmpi_oversubscribe,
            disable_dependencies=disable_dependencies,
            block_allocation=block_allocation,
            init_function=init_function,
            restart_limit=restart_limit,
            cache_directory=cache_directory,
            backend_options=backend_options,
            recorder=plot_recorder(plot_dependency_graph, plot_dependency_graph_filename, export_workflow_filename),
        )

    @staticmethod
    def _default_workers(max_cores, resource_dict):
        return _default_block_workers(max_cores, resource_dict)


class SingleNodeExecutor(_InteractiveExecutor):
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
        super().__init__(
            max_workers=max_workers, cache_directory=cache_directory, max_cores=max_cores,
            resource_dict=resource_dict, block_allocation=block_allocation, init_function=init_function,
            disable_dependencies=disable_dependencies, plot_dependency_graph=plot_dependency_graph,
            plot_dependency_graph_filename=plot_dependency_graph_filename,
            export_workflow_filename=export_workflow_filename, wait=wait, restart_limit=restart_limit,
            openmpi_oversubscribe=openmpi_oversubscribe,
        )


class SlurmJobExecutor(_InteractiveExecutor):
    """Run each call as an ``srun`` step inside the current SLURM allocation (the kernel's or the bridge's).

    Same parameters as ``executorlib.SlurmJobExecutor``. Steps use ``--exact`` so they share the
    allocation; ``pmi_mode`` is srun's ``--mpi`` (pmix when None). Outside an allocation the constructor
    raises an error that says how to get one.
    """

    _backend = "slurm"

    def __init__(
        self,
        max_workers: Optional[int] = None,
        cache_directory: Optional[str] = None,
        max_cores: Optional[int] = None,
        resource_dict: Optional[dict] = None,
        pmi_mode: Optional[str] = None,
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
        super().__init__(
            max_workers=max_workers, cache_directory=cache_directory, max_cores=max_cores,
            resource_dict=resource_dict, block_allocation=block_allocation, init_function=init_function,
            disable_dependencies=disable_dependencies, plot_dependency_graph=plot_dependency_graph,
            plot_dependency_graph_filename=plot_dependency_graph_filename,
            export_workflow_filename=export_workflow_filename, wait=wait, restart_limit=restart_limit,
            openmpi_oversubscribe=openmpi_oversubscribe,
            backend_options={"pmi_mode": pmi_mode, "scheduler_env": _scheduler_env()},
        )

    @staticmethod
    def _default_workers(max_cores, resource_dict):
        # The bridge sizes the pool from the allocation's CPUs.
        return max_cores // ((resource_dict or {}).get("cores") or 1) if max_cores else None


_FLUX_PMI_MODES = (None, "pmix", "pmi1", "pmi2")


class FluxJobExecutor(_InteractiveExecutor):
    """Run each call as a ``flux run`` job of the current flux instance (the kernel's ``FLUX_URI``).

    Same parameters as ``executorlib.FluxJobExecutor``; ``flux_executor`` may be the URI of a flux
    instance (``flux getattr local-uri``) instead of a ``flux.job.FluxExecutor``, which cannot leave the
    kernel.
    """

    _backend = "flux"

    def __init__(
        self,
        max_workers: Optional[int] = None,
        cache_directory: Optional[str] = None,
        max_cores: Optional[int] = None,
        resource_dict: Optional[dict] = None,
        pmi_mode: Optional[str] = None,
        flux_executor=None,
        flux_executor_nesting: bool = False,
        flux_log_files: bool = False,
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
        if pmi_mode not in _FLUX_PMI_MODES:
            raise ValueError(f"pmi_mode={pmi_mode!r} is not supported by flux; use one of {_FLUX_PMI_MODES}")
        if openmpi_oversubscribe:
            raise ValueError("openmpi_oversubscribe=True is not supported by flux: it cannot oversubscribe cores")
        _not_yet("flux_log_files", flux_log_files, False)
        env = _scheduler_env()
        if isinstance(flux_executor, str):
            env["FLUX_URI"] = flux_executor
        elif flux_executor is not None:
            raise TypeError(
                "flux_executor must be the URI of a flux instance (a str, e.g. from `flux getattr local-uri`): "
                "the executorlab bridge starts the jobs, and a flux.job.FluxExecutor cannot be sent to it"
            )
        super().__init__(
            max_workers=max_workers, cache_directory=cache_directory, max_cores=max_cores,
            resource_dict=resource_dict, block_allocation=block_allocation, init_function=init_function,
            disable_dependencies=disable_dependencies, plot_dependency_graph=plot_dependency_graph,
            plot_dependency_graph_filename=plot_dependency_graph_filename,
            export_workflow_filename=export_workflow_filename, wait=wait, restart_limit=restart_limit,
            openmpi_oversubscribe=False,
            backend_options={"pmi_mode": pmi_mode, "scheduler_env": env, "flux_executor_nesting": bool(flux_executor_nesting)},
        )


class _ClusterExecutor(BaseExecutor):
    """One batch job per call, through the cache directory's files; the jobs go on without the kernel."""

    def __init__(self, *, max_workers, cache_directory, max_cores, resource_dict, pysqa_config_directory, pmi_mode,
                 block_allocation, init_function, disable_dependencies, plot_dependency_graph,
                 plot_dependency_graph_filename, export_workflow_filename, wait, openmpi_oversubscribe):
        if max_workers is not None or max_cores is not None:
            raise ValueError(
                "max_workers and max_cores cannot be controlled with one job per call: the batch system decides "
                "how many of the jobs run at once"
            )
        if block_allocation or init_function is not None:
            raise NotImplementedError(
                f"{type(self).__name__} runs one job per call; block_allocation=True and init_function are not supported "
                "(use SlurmJobExecutor or FluxJobExecutor inside an allocation for warm workers)"
            )
        self._wait = bool(wait)
        super().__init__(
            max_workers=None,
            max_cores=None,
            resource_dict=resource_dict,
            openmpi_oversubscribe=openmpi_oversubscribe,
            disable_dependencies=disable_dependencies,
            # executorlib's default: every call goes through the files of a cache directory.
            cache_directory=os.path.abspath(cache_directory or "executorlib_cache"),
            backend_options={
                "pmi_mode": pmi_mode,
                "pysqa_config_directory": os.path.abspath(pysqa_config_directory) if pysqa_config_directory else None,
                # The kernel's flux instance (FLUX_URI) takes FluxClusterExecutor's jobs.
                "scheduler_env": _scheduler_env(),
            },
            recorder=plot_recorder(plot_dependency_graph, plot_dependency_graph_filename, export_workflow_filename),
        )

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """With ``wait=False`` (here or in the constructor) return once every call is submitted; the jobs go
        on, and the same calls submitted again later, from any process, attach to them or read their results
        from the cache."""
        if (wait and self._wait) or self._recorder is not None:
            super().shutdown(wait=True, cancel_futures=cancel_futures)
            return
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            pending = list(self._futures)
        if cancel_futures:
            for future in pending:
                cancel_future(future)
        client = self._client
        if client is not None and client.is_current():
            client.request(
                {"type": "shutdown_executor", "executor_id": self._id, "wait": False, "cancel_futures": cancel_futures},
                timeout=None,
            )


class SlurmClusterExecutor(_ClusterExecutor):
    """Submit every call as a SLURM job (``sbatch``) that runs it from the cache directory's input file.

    Same parameters as ``executorlib.SlurmClusterExecutor``. A future passed as an argument becomes
    ``--dependency=afterok:<job>``; ``resource_dict["submission_template"]`` (or the template of
    ``pysqa_config_directory``) is the job script, a Jinja template as in executorlib.
    """

    _backend = "slurm-cluster"

    def __init__(
        self,
        max_workers: Optional[int] = None,
        cache_directory: Optional[str] = None,
        max_cores: Optional[int] = None,
        resource_dict: Optional[dict] = None,
        pysqa_config_directory: Optional[str] = None,
        pmi_mode: Optional[str] = None,
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
        openmpi_oversubscribe: bool = False,
    ):
        super().__init__(
            max_workers=max_workers, cache_directory=cache_directory, max_cores=max_cores,
            resource_dict=resource_dict, pysqa_config_directory=pysqa_config_directory, pmi_mode=pmi_mode,
            block_allocation=block_allocation, init_function=init_function,
            disable_dependencies=disable_dependencies, plot_dependency_graph=plot_dependency_graph,
            plot_dependency_graph_filename=plot_dependency_graph_filename,
            export_workflow_filename=export_workflow_filename, wait=wait,
            openmpi_oversubscribe=openmpi_oversubscribe,
        )


class FluxClusterExecutor(_ClusterExecutor):
    """Submit every call as a flux job (``flux batch``), the way SlurmClusterExecutor does with SLURM.

    Same parameters as ``executorlib.FluxClusterExecutor``.
    """

    _backend = "flux-cluster"

    def __init__(
        self,
        max_workers: Optional[int] = None,
        cache_directory: Optional[str] = None,
        max_cores: Optional[int] = None,
        resource_dict: Optional[dict] = None,
        pysqa_config_directory: Optional[str] = None,
        pmi_mode: Optional[str] = None,
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
        openmpi_oversubscribe: bool = False,
    ):
        if openmpi_oversubscribe:
            raise ValueError("openmpi_oversubscribe=True is not supported by flux: it cannot oversubscribe cores")
        super().__init__(
            max_workers=max_workers, cache_directory=cache_directory, max_cores=max_cores,
            resource_dict=resource_dict, pysqa_config_directory=pysqa_config_directory, pmi_mode=pmi_mode,
            block_allocation=block_allocation, init_function=init_function,
            disable_dependencies=disable_dependencies, plot_dependency_graph=plot_dependency_graph,
            plot_dependency_graph_filename=plot_dependency_graph_filename,
            export_workflow_filename=export_workflow_filename, wait=wait,
            openmpi_oversubscribe=False,
        )


class AttachedExecutor(BaseExecutor):
    """An executor started from the Executors panel, used by name (``executorlab.connect``).

    It belongs to the bridge, not to this kernel: ``shutdown()`` waits for (or cancels) this kernel's own
    calls and leaves the executor running for others; the panel stops it.
    """

    def __init__(self, name: str):
        self._attach_name = name
        super().__init__(max_workers=None, max_cores=None, resource_dict=None, openmpi_oversubscribe=False)

    def _connect(self) -> BridgeClient:
        client = get_client()
        reply = client.request({"type": "attach_executor", "name": self._attach_name})
        executor = reply["executor"]
        self._id = executor["executor_id"]
        self._name = executor["name"]
        self._options = dict(executor["options"])
        self._cache_directory = executor.get("cache_directory")
        self._client = client
        self._valid_resource_dicts.clear()
        return client

    def _finish(self, pending: list, cancel_futures: bool) -> None:
        concurrent.futures.wait(pending)

    def __repr__(self) -> str:
        return f"<AttachedExecutor {self._attach_name!r} ({self._options.get('max_cores') or 'any'} cores)>"


def connect(name: str) -> AttachedExecutor:
    """The executor named ``name`` that was started from the Executors panel of this JupyterLab's bridge.

    Raises:
        ValueError: no running executor of that name was started from the panel (the message lists those
            that were).
    """
    return AttachedExecutor(name)
