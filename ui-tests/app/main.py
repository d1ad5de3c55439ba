"""Serve the JupyterLab frontend assembled from npm packages, with executorlab's server extension.

Uses Debian's jupyter_server 1.23 and jupyterlab_server 2.16 (no `jupyterlab` Python package).
Start it through start-server.sh, which sets PYTHONPATH so that both this server and the
kernels it starts import `executorlab` from the repository.

Environment:
  JLAB_STATIC_DIR          build (default: executorlab bundled in) or build-federated
                           (module-federation host; executorlab from its prebuilt labextension)
  JLAB_LABEXTENSIONS_PATH  os.pathsep-separated labextension dirs (default: app/labextensions
                           for build-federated, none for build)
  JLAB_STATE_DIR           user settings and workspaces (default: ui-tests/.state)
"""
import json
import os

os.environ.setdefault("JUPYTER_NO_CONFIG", "1")  # nothing else installed on the machine loads

from jupyter_server.base.handlers import APIHandler  # noqa: E402
from jupyterlab_server import LabServerApp  # noqa: E402
from tornado import web, websocket  # noqa: E402
from traitlets import default  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC_DIR = os.environ.get("JLAB_STATIC_DIR", "build")
BUILD = os.path.join(HERE, STATIC_DIR)
FEDERATED = STATIC_DIR == "build-federated"
# Only the federated host loads prebuilt labextensions; the default build has executorlab
# bundled in, and serving its labextension too would list its settings schema twice.
LABEXTENSIONS_PATH = [
    p for p in os.environ.get(
        "JLAB_LABEXTENSIONS_PATH", os.path.join(HERE, "labextensions") if FEDERATED else ""
    ).split(os.pathsep) if p
]
STATE = os.environ.get("JLAB_STATE_DIR", os.path.join(HERE, "..", ".state"))

with open(os.path.join(HERE, "..", "package.json")) as f:
    VERSION = json.load(f)["version"]


class MeStubHandler(APIHandler):
    """/api/me is jupyter_server>=2 only; JupyterLab 4's UserManager polls it."""

    @web.authenticated
    def get(self):
        user = self.current_user
        name = user if isinstance(user, str) and user else "anonymous"
        self.finish(json.dumps({
            "identity": {"username": name, "name": name, "display_name": name,
                         "initials": name[:1].upper(), "avatar_url": None, "color": None},
            "permissions": {},
        }))


class EventsStubHandler(websocket.WebSocketHandler):
    """/api/events/subscribe (jupyter_server>=2 event bus): accept and stay silent."""

    def check_origin(self, origin):
        return True

    def on_message(self, message):
        pass


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": AssembledLab}]


class AssembledLab(LabServerApp):
    name = __name__  # jupyter_server 1.x finds the starter extension by its module name
    extension_url = "/lab"
    default_url = "/lab"
    app_name = "JupyterLab"
    app_version = VERSION
    # Also load executorlab's server extension (bridge + proxy at <base_url>executorlab/).
    # Listing it here rather than discovering config files keeps JUPYTER_NO_CONFIG's isolation.
    load_other_extensions = True
    serverapp_config = {"jpserver_extensions": {"executorlab": True}}

    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    app_settings_dir = os.path.join(HERE, "app_settings")  # overrides.json, page_config.json
    user_settings_dir = os.path.join(STATE, "user_settings")
    workspaces_dir = os.path.join(STATE, "workspaces")

    @default("labextensions_path")
    def _labextensions_path_default(self):
        return LABEXTENSIONS_PATH

    def initialize_handlers(self):
        super().initialize_handlers()
        self.handlers.extend([
            (r"/api/me", MeStubHandler),
            (r"/api/events/subscribe", EventsStubHandler),
        ])

    def initialize_settings(self):
        super().initialize_settings()
        settings = self.serverapp.web_app.settings
        settings.setdefault("page_config_data", {}).update({
            "exposeAppInBrowser": True,
            "terminalsAvailable": False,
        })


if __name__ == "__main__":
    AssembledLab.launch_instance()
