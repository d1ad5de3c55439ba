"""``executorlab kernelspec install`` (run as ``python -m executorlab``: the console script may not be
installed in a development checkout)."""

import json
import os
import subprocess
from pathlib import Path

from executorlab.tests.conftest import REPO

PYTHON = "/usr/bin/python3"


def executorlab(*args: str, path: str = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([PYTHON, "-m", "executorlab", *args], env=env, capture_output=True, text=True, timeout=60)


def kernel_json(prefix: Path, name: str) -> dict:
    return json.loads((prefix / "share" / "jupyter" / "kernels" / name / "kernel.json").read_text())


def test_install_plain_kernel(tmp_path):
    done = executorlab("kernelspec", "install", "--prefix", str(tmp_path))
    assert done.returncode == 0, done.stderr
    spec = kernel_json(tmp_path, "executorlab")
    assert spec["argv"] == [PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--ext=executorlab"]
    assert spec["display_name"] == "Python 3 (executorlab)"
    assert spec["language"] == "python" and spec["metadata"] == {"debugger": True}
    assert str(tmp_path / "share" / "jupyter" / "kernels" / "executorlab") in done.stdout
    assert "flux" not in done.stderr


def test_install_flux_kernel_warns_without_flux(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = executorlab("kernelspec", "install", "--flux", "--prefix", str(tmp_path), path=str(empty))
    assert done.returncode == 0, done.stderr
    spec = kernel_json(tmp_path, "executorlab-flux")
    assert spec["argv"] == ["flux", "start", PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--ext=executorlab"]
    assert spec["display_name"] == "Python 3 (flux)"
    assert "warning" in done.stderr and "flux" in done.stderr and "PATH" in done.stderr
    assert "executorlab-flux" in done.stdout


def test_install_flux_kernel_with_flux_on_path_does_not_warn(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    flux = bin_dir / "flux"
    flux.write_text("#!/bin/sh\nexit 0\n")
    flux.chmod(0o755)
    done = executorlab("kernelspec", "install", "--flux", "--prefix", str(tmp_path), path=f"{bin_dir}{os.pathsep}/usr/bin")
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr


def test_name_and_display_name(tmp_path):
    done = executorlab("kernelspec", "install", "--prefix", str(tmp_path), "--name", "my-lab", "--display-name", "Mine")
    assert done.returncode == 0, done.stderr
    assert kernel_json(tmp_path, "my-lab")["display_name"] == "Mine"


def test_argument_errors_exit_2(tmp_path):
    for args in [(), ("kernelspec",)]:
        done = executorlab(*args)
        assert done.returncode == 2 and "usage: executorlab" in done.stderr, args
    done = executorlab("kernelspec", "install", "--user", "--prefix", str(tmp_path))
    assert done.returncode == 2 and "not allowed with argument" in done.stderr
    done = executorlab("kernelspec", "install", "--prefix", str(tmp_path), "--name", "no spaces")
    assert done.returncode == 2 and "Invalid kernel name" in done.stderr
    done = executorlab("kernelspec", "frobnicate")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    assert not (tmp_path / "share").exists()
