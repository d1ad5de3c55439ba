"""executorlab: executorlib's executors, scheduled by a TypeScript bridge and shown live in JupyterLab.

Names are imported on first use: a worker process (``python -m executorlab.worker``) loads this package
too, and must not pay for the client, the server extension or concurrent.futures at every start.
"""

import importlib

from executorlab._version import __version__

_EXPORTS = {
    "BaseExecutor": "executorlab.executor",
    "SingleNodeExecutor": "executorlab.executor",
    "connect": "executorlab.executor",
    "AttachedExecutor": "executorlab.executor",
    "SlurmJobExecutor": "executorlab.executor",
    "FluxJobExecutor": "executorlab.executor",
    "SlurmClusterExecutor": "executorlab.executor",
    "FluxClusterExecutor": "executorlab.executor",
    "BridgeConnectionError": "executorlab.errors",
    "ExecutorlabWorkerError": "executorlab.errors",
    "ExecutorlabJobError": "executorlab.errors",
    "RemoteTraceback": "executorlab.errors",
    "get_item_from_future": "executorlab.futures",
    "split_future": "executorlab.futures",
    "get_cache_data": "executorlab.cache.hdf",
    "get_future_from_cache": "executorlab.cache.hdf",
    "terminate_tasks_in_cache": "executorlab.cache.terminate",
    "terminate_task_in_cache": "executorlab.cache.terminate",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'executorlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)


def load_ipython_extension(shell):
    """``%load_ext executorlab``: the ``%%submit`` and ``%executor`` magics."""
    from executorlab.magics import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell):
    from executorlab.magics import unload_ipython_extension as unload

    unload(shell)


def _jupyter_server_extension_points():
    return [{"module": "executorlab.serverextension"}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "executorlab"}]
