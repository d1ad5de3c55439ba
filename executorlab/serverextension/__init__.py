"""The Jupyter server extension: runs the bridge beside the server and proxies the frontend to it."""

import os

from jupyter_server.utils import url_path_join

from executorlab.serverextension.handlers import BridgeEventsHandler, BridgeProxyHandler
from executorlab.serverextension.supervisor import BridgeSupervisor


def _load_jupyter_server_extension(serverapp):
    supervisor = BridgeSupervisor(serverapp.runtime_dir, serverapp.log, os.path.abspath(serverapp.root_dir))
    supervisor.start()
    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], "executorlab", "api")
    web_app.settings["executorlab_supervisor"] = supervisor
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "events"), BridgeEventsHandler),
            (url_path_join(base, "(.*)"), BridgeProxyHandler),
        ],
    )
    serverapp.log.info("executorlab | server extension loaded; API at %s", base)


# jupyter_server 1.x looks for this name; keep the older alias as well.
load_jupyter_server_extension = _load_jupyter_server_extension
