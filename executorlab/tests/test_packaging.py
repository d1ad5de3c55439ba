"""pip install of the checkout into a fresh virtual environment: offline, with Debian's build tools."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from executorlab.tests.conftest import REPO


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(root)], check=True)
    # Build from a copy so the checkout gets no build/ or egg-info droppings.
    source = tmp_path_factory.mktemp("src") / "executorlab"
    top_level = {"node_modules", ".git", "ui-tests", "lib", "build", "kernel-bridge", "src"}
    shutil.copytree(REPO, source, ignore=lambda folder, names: top_level & set(names) if Path(folder) == REPO else ())
    done = subprocess.run(
        [str(root / "bin" / "pip"), "install", "--no-index", "--no-build-isolation", "--no-deps", str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def venv_python(venv: Path, code: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EXECUTORLAB_CONNECTION_FILE")}
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_prebuilt_labextension_is_installed(venv):
    target = venv / "share" / "jupyter" / "labextensions" / "executorlab"
    manifest = json.loads((target / "package.json").read_text())
    assert manifest["name"] == "executorlab"
    remote_entry = manifest["jupyterlab"]["_build"]["load"]
    assert (target / remote_entry).is_file()
    assert any((target / "schemas" / "executorlab").glob("*.json"))


def test_server_extension_is_enabled(venv, tmp_path):
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "jupyter_server", "extension", "list"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JUPYTER_NO_CONFIG")},
    )
    listing = done.stdout + done.stderr
    assert "executorlab" in listing and "enabled" in listing.split("executorlab", 1)[1].splitlines()[0]
    assert "executorlab 0.1.0 OK" in listing.replace("\x1b[32m", "").replace("\x1b[0m", "")


def test_installed_package_ships_the_bridge_and_runs_a_task(venv, tmp_path):
    done = venv_python(
        venv,
        "import executorlab, executorlab.client.bridge_process as bp\n"
        "print(executorlab.__file__)\nprint(bp.BRIDGE_SCRIPT)\n"
        "with executorlab.SingleNodeExecutor() as exe:\n    print(exe.submit(sum, [1, 1]).result(timeout=60))\n",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    package_file, bridge, result = done.stdout.split()
    assert package_file.startswith(str(venv)) and bridge.startswith(str(venv))
    assert result == "2"
