"""A lost node in a real 2-node SLURM (scripts/slurm/multi/): node2 is killed (its link down, then every
process in its namespace SIGKILLed) while calls run there.

Job mode: a kernel runs as a batch job (on node1) of an allocation started with --no-kill, so SLURM keeps
it when node2 goes; the bridge finds node2's workers silent and fails their calls within its
--worker-silence-limit (default 10 s), naming node2 and the silence, long before SLURM would declare node2 down
(SlurmdTimeout); a block allocation replaces the workers on node1, where the allocation has room.
Cluster mode: a job on node2 ends NODE_FAIL once SLURM declares the node down; the error names NODE_FAIL and
node2.

node2 is brought back after each test (its link up, its slurmd started again) for the tests that follow.
Run under `flock /tmp/executorlab-multinode.lock` (one 2-node cluster per machine).
"""

import json
import os
import re
import sys
import textwrap
import time
from pathlib import Path

import pytest

from executorlab.tests.conftest import wait_for
from executorlab.tests.node_failure import kill_node, restore_node

REPO = Path(__file__).resolve().parents[2]
# The bridge's default --worker-silence-limit; the kernels here do not set it.
LIMIT = 10
# Generous for a loaded 2-core machine: the bridge checks 4 times per limit, the error travels back.
MARGIN = 10

KERNEL = textwrap.dedent("""\
    import json, os, subprocess, sys, time
    from pathlib import Path
    from executorlab import SlurmJobExecutor

    folder, mode = Path(sys.argv[1]), sys.argv[2]

    def started_on(folder, name, seconds):
        import pathlib, socket, time
        pathlib.Path(folder, name).write_text(socket.gethostname())
        time.sleep(seconds)

    def host():
        import socket
        return socket.gethostname()

    def wait_file(name, timeout=120):
        deadline = time.monotonic() + timeout
        while not (folder / name).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} never came")
            time.sleep(0.05)
        return (folder / name).read_text()

    def steps():
        out = subprocess.run(["squeue", "-h", "-s", "--jobs", os.environ["SLURM_JOB_ID"], "-o", "%j %N"],
                             capture_output=True, text=True).stdout
        return out.split("\\n")

    def ended_at(futures):
        ends = {}
        for i, f in enumerate(futures):
            f.add_done_callback(lambda f, i=i: ends.__setitem__(i, time.time()))
        errors = [f.exception(timeout=180) for f in futures]
        return [{"at": ends[i], "type": type(e).__name__, "text": str(e)} for i, e in enumerate(errors)]

    report = {}
    if mode == "job":
        with SlurmJobExecutor() as exe:
            on_node2 = {"slurm_cmd_args": ["--nodelist=node2"]}
            futures = [exe.submit(started_on, str(folder), f"call{i}", 600, resource_dict=on_node2) for i in range(2)]
            report["hosts"] = [wait_file(f"call{i}") for i in range(2)]
            (folder / "ready").write_text("")
            wait_file("killed")
            report["errors"] = ended_at(futures)
            report["after"] = exe.submit(host).result(timeout=120)
    else:
        # node1's CPUs are held while the pool starts, so its workers start on node2; then node1 has room.
        filler = subprocess.Popen(["srun", "--exact", "-N1", "-n2", "-w", "node1", "sleep", "600"])
        deadline = time.monotonic() + 60
        while not any(line.startswith("sleep node1") for line in steps()):
            assert time.monotonic() < deadline, f"the filler step never ran: {steps()}"
            time.sleep(0.1)
        with SlurmJobExecutor(max_workers=2, block_allocation=True, restart_limit=2) as exe:
            futures = [exe.submit(started_on, str(folder), f"call{i}", 600) for i in range(2)]
            report["hosts"] = [wait_file(f"call{i}") for i in range(2)]
            filler.terminate()
            filler.wait()
            while any(line.startswith("sleep ") for line in steps()):
                time.sleep(0.1)
            (folder / "ready").write_text("")
            wait_file("killed")
            report["errors"] = ended_at(futures)
            report["after"] = sorted({exe.submit(host).result(timeout=120) for _ in range(4)})
    (folder / "report.tmp").write_text(json.dumps(report))
    (folder / "report.tmp").rename(folder / "report.json")
""")


@pytest.fixture
def node2_back(slurm_multi):
    """node2 restored after the test (it may kill it)."""
    yield
    if not Path(f"/proc/{slurm_multi.slurmd_pid('node2')}").exists():
        restore_node(str(slurm_multi.base), "node2", str(slurm_multi.conf))


def in_allocation_kill_node2(cluster, tmp_path: Path, mode: str) -> tuple:
    """Run KERNEL in a --no-kill 2-node batch job, kill node2 once its calls run there; (report, death time)."""
    (tmp_path / "kernel.py").write_text(KERNEL)
    (tmp_path / "job.sh").write_text(f"#!/bin/bash\nexec {sys.executable} {tmp_path / 'kernel.py'} {tmp_path} {mode}\n")
    job = cluster.sbatch(tmp_path / "job.sh", "--no-kill", "--no-requeue", "-N2", "--ntasks-per-node=2",
                         "-o", str(tmp_path / "job.out"), env={"PYTHONPATH": str(REPO)}, cwd=tmp_path)
    try:
        def ready():
            if (tmp_path / "ready").exists():
                return True
            state = cluster.job(job).get("JobState")
            assert state in ("PENDING", "RUNNING"), f"job {job} {state}:\n{(tmp_path / 'job.out').read_text()}"
            return False

        wait_for(ready, 120, "calls running on node2")
        died = kill_node(str(cluster.base), "node2")
        (tmp_path / "killed").write_text(str(died))

        def report():
            if (tmp_path / "report.json").exists():
                return json.loads((tmp_path / "report.json").read_text())
            state = cluster.job(job).get("JobState")
            assert state == "RUNNING", f"job {job} {state} without a report:\n{(tmp_path / 'job.out').read_text()}"
            return None

        return wait_for(report, 180, "the kernel's report"), died
    finally:
        cluster.run("scancel", job)


def assert_lost_on_node2(errors: list, died: float):
    for error in errors:
        assert error["type"] == "ExecutorlabWorkerError", error
        text = error["text"]
        assert " on node2 " in text and "was silent for" in text and "while running started_on" in text, text
        assert f"the limit is {LIMIT} s" in text, text
        silent = float(re.search(r"was silent for ([\d.]+) s", text).group(1))
        assert LIMIT < silent < LIMIT + MARGIN, text
        assert error["at"] - died < LIMIT + MARGIN, f"failed {error['at'] - died:.1f} s after node2 died: {text}"


def test_calls_on_a_lost_node_fail_within_the_silence_limit_naming_it(slurm_multi, node2_back, tmp_path):
    report, died = in_allocation_kill_node2(slurm_multi, tmp_path, "job")
    assert report["hosts"] == ["node2", "node2"]
    assert_lost_on_node2(report["errors"], died)
    # The allocation goes on without node2 (--no-kill): the next call runs on node1.
    assert report["after"] == "node1"


def test_block_allocation_replaces_workers_of_a_lost_node_on_the_node_with_room(slurm_multi, node2_back, tmp_path):
    report, died = in_allocation_kill_node2(slurm_multi, tmp_path, "block")
    assert report["hosts"] == ["node2", "node2"]
    assert_lost_on_node2(report["errors"], died)
    assert report["after"] == ["node1"], "both workers were replaced on node1"


CLUSTER_TEMPLATE = textwrap.dedent("""\
    #!/bin/bash
    #SBATCH --job-name={{job_name}}
    #SBATCH --chdir={{working_directory}}
    #SBATCH --output={{output_file}}
    #SBATCH --error={{error_file}}
    #SBATCH --ntasks={{cores}}
    #SBATCH --nodelist=node2
    #SBATCH --no-requeue
    {{command}}
    """)


def started(folder, seconds):
    Path(folder, "started").write_text("")
    time.sleep(seconds)


def test_a_cluster_job_on_a_lost_node_ends_node_fail_naming_the_node(slurm_multi, node2_back, tmp_path):
    from executorlab import ExecutorlabJobError, SlurmClusterExecutor

    timeout = int(slurm_multi.run("scontrol", "show", "config").stdout.split("SlurmdTimeout", 1)[1].split()[1])
    with SlurmClusterExecutor(cache_directory=str(tmp_path / "cache"),
                              resource_dict={"submission_template": CLUSTER_TEMPLATE}) as exe:
        future = exe.submit(started, str(tmp_path), 600)
        wait_for(lambda: (tmp_path / "started").exists() or future.done(), 60, "the job to run on node2")
        assert not future.done(), future.exception()
        kill_node(str(slurm_multi.base), "node2")
        # SLURM declares the node down after SlurmdTimeout (and its next ping), then ends the job.
        error = future.exception(timeout=3 * timeout + 60)
    assert isinstance(error, ExecutorlabJobError), error
    assert "ended NODE_FAIL" in str(error) and "node2" in str(error), str(error)
