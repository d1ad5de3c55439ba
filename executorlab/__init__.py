"""executorlab: executorlib's executors, scheduled by a TypeScript bridge and shown live in JupyterLab."""

from executorlab._version import __version__
from executorlab.errors import BridgeConnectionError, ExecutorlabWorkerError, RemoteTraceback
from executorlab.executor import BaseExecutor, SingleNodeExecutor
from executorlab.futures import get_item_from_future, split_future

__all__ = [
    "BaseExecutor",
    "BridgeConnectionError",
    "ExecutorlabWorkerError",
    "RemoteTraceback",
    "SingleNodeExecutor",
    "__version__",
    "get_item_from_future",
    "split_future",
]


def _jupyter_server_extension_points():
    return [{"module": "executorlab.serverextension"}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "executorlab"}]
