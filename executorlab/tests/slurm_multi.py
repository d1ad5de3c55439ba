"""A real 2-node SLURM on this machine for the multi-node tests (``scripts/slurm/multi/``).

Each node is a network + UTS namespace with its own slurmd, host name (node1, node2) and address on a private
bridge (10.251.0.0/24, reachable only from this machine: the scripts keep an unreachable guard route for it).
munged and slurmctld run in the root namespace; every namespace sees the same filesystem.

The cluster is started once per test session (``slurm_multi``) and stopped after, whatever happened; a
cluster left by a killed session is stopped first. Only one can run on a machine at a time (fixed names,
subnet and ports): run concurrent sessions under ``flock /tmp/executorlab-multinode.lock``.

SLURM_CONF: the single-node cluster (``executorlab/tests/slurm.py``) sets ``os.environ["SLURM_CONF"]`` for the
session. This fixture never does that for the whole session: it passes its config explicitly to what it
runs (``cluster.env``), and ``_slurm_multi_conf`` (autouse, imported by conftest) sets SLURM_CONF (and
OpenMPI's root variables) for exactly the tests that use ``slurm_multi`` and restores it after each, so tests
of either fixture get their own cluster in any order in one session.

Helpers for tests (``SlurmMultiCluster``): ``base``, ``conf``, ``nodes``, ``cpus_per_node``, ``pids_file``,
``pids()``, ``slurmd_pid(node)``, ``on_node(node, *cmd)`` / ``on_node_command(node, *cmd)`` (a command in a
node's network and UTS namespaces, so its host name is the node's), ``run(*cmd)`` (a client command against
this cluster), ``sbatch(script, *args)``, ``wait_for_job(job_id)`` and ``job(job_id)``.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "slurm" / "multi"
BASE = Path(os.environ.get("EXECUTORLAB_TEST_SLURM_MULTI_BASE", "/tmp/executorlab-test-slurm-multi"))
NODES = 2
CPUS_PER_NODE = 2
# The README's test command sets this: there, a SLURM that cannot start is a failure, not a skip.
REQUIRED = os.environ.get("EXECUTORLAB_REQUIRE_SLURM") == "1"
# SLURM job states after which a job changes no more.
ENDED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"}


def _why_not() -> str:
    """Why a multi-node SLURM cannot be started here, or ''."""
    missing = [name for name in ("slurmctld", "slurmd", "munged") if not shutil.which(name, path="/usr/sbin:/usr/bin")]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install slurmctld slurmd slurm-client munge libpmix-dev)"
    tools = [name for name in ("ip", "nsenter", "unshare", "ss") if not shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")]
    if tools:
        return f"{', '.join(tools)} not installed (apt-get install iproute2 util-linux)"
    if os.geteuid() != 0:
        return "the 2-node test SLURM needs root (network namespaces, a bridge, its daemons), and these tests do not run as root"
    return ""


class SlurmMultiCluster:
    def __init__(self, base: Path = BASE, nodes: int = NODES, cpus_per_node: int = CPUS_PER_NODE, **knobs: str):
        """knobs: more environment for start-multi.sh (SLURMD_TIMEOUT, SCHED_PARAMS, ...; see the script)."""
        self.base = Path(base)
        self.conf = self.base / "etc" / "slurm.conf"
        self.pids_file = self.base / "run" / "pids"
        self.nodes = [f"node{i}" for i in range(1, nodes + 1)]
        self.cpus_per_node = cpus_per_node
        self.script_env = {"BASE": str(self.base), "NODES": str(nodes), "CPUS_PER_NODE": str(cpus_per_node), **knobs}
        # What every process using this cluster needs (tests get it in os.environ through _slurm_multi_conf).
        self.env = {"SLURM_CONF": str(self.conf), "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}

    def _script(self, name: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(SCRIPTS / name)], env={**os.environ, **self.script_env},
                              capture_output=True, text=True, timeout=180)

    def start(self) -> None:
        # A cluster left by a killed session is stopped first (the script refuses to start over it).
        self.stop()
        result = self._script("start-multi.sh")
        if result.returncode != 0:
            self.stop()  # the script cleans up after itself; this makes sure
            raise RuntimeError(f"start-multi.sh failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def stop(self) -> None:
        # The script first replaces slurm.conf with a stub that clients fail on at once (no network I/O).
        self._script("stop-multi.sh")

    def pids(self) -> dict:
        """The daemons start-multi.sh recorded: munged, slurmctld, slurmd-node1, ... -> pid."""
        if not self.pids_file.exists():
            return {}
        lines = (line.split() for line in self.pids_file.read_text().splitlines())
        return {fields[0]: int(fields[1]) for fields in lines if len(fields) == 2}

    def slurmd_pid(self, node: str) -> int:
        return self.pids()[f"slurmd-{node}"]

    def on_node_command(self, node: str, *cmd: str) -> list:
        """argv running cmd on node: in its network and UTS namespaces (host name `node`), as its slurmd runs.
        Not `ip netns exec`, whose host name is this machine's (and whose fresh /sys breaks slurmd)."""
        return ["nsenter", "-t", str(self.slurmd_pid(node)), "--net", "--uts", *cmd]

    def on_node(self, node: str, *cmd: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(self.on_node_command(node, *cmd), env={**os.environ, **self.env}, capture_output=True,
                              text=True, timeout=timeout, **kwargs)

    def run(self, *cmd: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
        """A SLURM client command (sinfo, srun, scontrol, ...) against this cluster."""
        return subprocess.run(cmd, env={**os.environ, **self.env, **kwargs.pop("env", {})}, capture_output=True,
                              text=True, timeout=timeout, **kwargs)

    def sbatch(self, script: Path, *args: str, env: dict = None, cwd: Path = None) -> str:
        """Submits script (sbatch --parsable *args) with os.environ + env; returns the job id."""
        result = self.run("sbatch", "--parsable", *args, str(script), env=env or {}, cwd=cwd)
        assert result.returncode == 0, f"sbatch failed: {result.stderr}"
        return result.stdout.strip().split(";")[0]

    def job(self, job_id: str) -> dict:
        """scontrol's view of a job as a dict (JobState, Reason, ExitCode, NodeList, BatchHost, ...)."""
        out = self.run("scontrol", "--oneliner", "show", "job", str(job_id)).stdout
        return dict(field.split("=", 1) for field in out.split() if "=" in field)

    def wait_for_job(self, job_id: str, timeout: float = 120) -> dict:
        """The job's record once it has ended (JobState in ENDED)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job.get("JobState") in ENDED:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"SLURM job {job_id} did not end within {timeout} s: {job}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def slurm_multi():
    why = _why_not()
    if why:
        if REQUIRED:
            pytest.fail(f"EXECUTORLAB_REQUIRE_SLURM=1 but the 2-node test SLURM cannot start: {why}")
        pytest.skip(f"no 2-node test SLURM: {why}")
    cluster = SlurmMultiCluster()
    try:
        cluster.start()
    except RuntimeError as error:
        if REQUIRED:
            pytest.fail(f"EXECUTORLAB_REQUIRE_SLURM=1 but the 2-node test SLURM did not start: {error}")
        pytest.skip(f"the 2-node test SLURM did not start: {error}")
    try:
        yield cluster
    finally:
        cluster.stop()
        if os.environ.get("SLURM_CONF") == str(cluster.conf):  # only ever set per test; never left behind
            os.environ.pop("SLURM_CONF")


@pytest.fixture(autouse=True)
def _slurm_multi_conf(request):
    """For a test that uses slurm_multi: its SLURM_CONF (and OpenMPI's root variables) in os.environ while it
    runs, so that everything it starts talks to the 2-node cluster; the previous values after it."""
    if "slurm_multi" not in request.fixturenames:
        yield
        return
    cluster = request.getfixturevalue("slurm_multi")
    saved = {name: os.environ.get(name) for name in cluster.env}
    os.environ.update(cluster.env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
