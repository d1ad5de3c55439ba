"""Ships the built parts next to the Python code: the prebuilt labextension under
share/jupyter/labextensions/executorlab, the server-extension switch under etc/jupyter, and the bundled
bridge inside the package. Build them first with `npm run build` (see README)."""

import os
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
LABEXTENSION = os.path.join("executorlab", "labextension")
BRIDGE = os.path.join("executorlab", "bridge")


def tree(source: str, target: str) -> list:
    """data_files entries for every file below source, mirrored below target."""
    entries = []
    for folder, _, files in os.walk(os.path.join(HERE, source)):
        if files:
            relative = os.path.relpath(folder, HERE)
            inner = os.path.relpath(folder, os.path.join(HERE, source))
            entries.append((os.path.normpath(os.path.join(target, inner)), [os.path.join(relative, f) for f in files]))
    return entries


def package_files(package_dir: str) -> list:
    return [
        os.path.relpath(os.path.join(folder, f), os.path.join(HERE, "executorlab"))
        for folder, _, files in os.walk(os.path.join(HERE, package_dir))
        for f in files
    ]


for built in (os.path.join(LABEXTENSION, "package.json"), os.path.join(BRIDGE, "bridge.mjs")):
    if not os.path.exists(os.path.join(HERE, built)) and "egg_info" not in sys.argv:
        sys.exit(f"{built} is missing: run `npm ci && npm run build` before installing executorlab")

setup(
    package_data={"executorlab": package_files(BRIDGE) + package_files(LABEXTENSION)},
    data_files=tree(LABEXTENSION, "share/jupyter/labextensions/executorlab")
    + tree("jupyter-config", "etc/jupyter"),
)
