"""A real single-node SLURM (munged, slurmctld, slurmd on localhost, 8 CPUs) for the tests that need one.

Started once per test session by ``scripts/slurm/start-slurm.sh`` and stopped after, whatever happened.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "slurm"
BASE = Path(os.environ.get("EXECUTORLAB_TEST_SLURM_BASE", "/tmp/executorlab-test-slurm"))
CPUS = 8
# The README's test command sets this: there, a SLURM that cannot start is a failure, not a skip.
REQUIRED = os.environ.get("EXECUTORLAB_REQUIRE_SLURM") == "1"


def _why_not() -> str:
    """Why a single-node SLURM cannot be started here, or ''."""
    missing = [name for name in ("slurmctld", "slurmd", "munged") if not shutil.which(name, path="/usr/sbin:/usr/bin")]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install slurmctld slurmd slurm-client munge libpmix-dev)"
    if os.geteuid() != 0:
        return "the test SLURM runs its daemons as root, and these tests do not run as root"
    return ""


class SlurmCluster:
    def __init__(self):
        # Ports of their own: a developer's SLURM on the default 6817/6818 keeps running.
        port = int(os.environ.get("EXECUTORLAB_TEST_SLURM_PORT", "6917"))
        self.env = {"BASE": str(BASE), "CPUS": str(CPUS), "CTLD_PORT": str(port), "SLURMD_PORT": str(port + 1)}
        self.conf = BASE / "etc" / "slurm.conf"

    def start(self) -> None:
        # A cluster left by a killed session is stopped first (the script refuses to start over it).
        self.stop()
        result = subprocess.run(
            ["bash", str(SCRIPTS / "start-slurm.sh")], env={**os.environ, **self.env},
            capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            self.stop()  # what did start (munged, say) must not outlive the session
            raise RuntimeError(f"start-slurm.sh failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        os.environ["SLURM_CONF"] = str(self.conf)

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPTS / "stop-slurm.sh")], env={**os.environ, **self.env},
                       capture_output=True, timeout=120)

    def job(self, job_id: str) -> dict:
        """scontrol's view of a job as a dict (JobState, Reason, ExitCode, ...)."""
        out = subprocess.run(["scontrol", "--oneliner", "show", "job", str(job_id)], capture_output=True,
                             text=True, check=True).stdout
        return dict(field.split("=", 1) for field in out.split() if "=" in field)


@pytest.fixture(scope="session")
def slurm():
    why = _why_not()
    if why:
        if REQUIRED:
            pytest.fail(f"EXECUTORLAB_REQUIRE_SLURM=1 but a test SLURM cannot start: {why}")
        pytest.skip(f"no test SLURM: {why}")
    cluster = SlurmCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        os.environ.pop("SLURM_CONF", None)
