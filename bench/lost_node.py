#!/usr/bin/python3
"""A lost node: the time from node2's death to the errors of the calls that ran there.

Starts its own 2-node SLURM (``executorlab.tests.slurm_multi.SlurmMultiCluster``: network namespaces node1 and
node2 under /tmp/executorlab-bench-slurm-multi; one such cluster per machine, so it takes
/tmp/executorlab-multinode.lock as the multi-node tests do). A kernel runs as a batch job (on node1) of a
``--no-kill`` 2-node allocation:

- executorlab: N calls of ``SlurmJobExecutor()`` pinned to node2 (``slurm_cmd_args=["--nodelist=node2"]``), each
  an srun step whose worker sleeps; node2 is killed (its link down, then every process in its namespace
  SIGKILLed); each call's error arrives once the bridge finds the worker silent for longer than
  ``--worker-silence-limit`` (default 10 s). Median and maximum over the calls.
- peer: what SLURM alone gives, which is what those calls got before the silence limit: a bare
  ``srun --exact -N1 -n1 -w node2 sleep`` step started alongside ends only when slurmctld declares node2 down
  (after SlurmdTimeout, 30 s here as in the tests; real clusters default to 300 s).

Printed, not asserted; target: the errors within the limit plus the bridge's check interval (1 s). Without SLURM, the namespaces' tools or root,
the script says why and exits 0. ``--quick``: SlurmdTimeout=10 (the peer ends sooner).
"""

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import _common as c

from executorlab.tests.node_failure import kill_node
from executorlab.tests.slurm_multi import SlurmMultiCluster, _why_not

LOCK = "/tmp/executorlab-multinode.lock"
BASE = "/tmp/executorlab-bench-slurm-multi"
LIMIT = 10  # the bridge's default --worker-silence-limit
CPUS_PER_NODE = 4

KERNEL = textwrap.dedent("""\
    import json, os, subprocess, sys, time
    from pathlib import Path
    from executorlab import SlurmJobExecutor

    folder, n = Path(sys.argv[1]), int(sys.argv[2])

    def started_on(folder, name, seconds):
        import pathlib, socket, time
        pathlib.Path(folder, name).write_text(socket.gethostname())
        time.sleep(seconds)

    def wait_file(name, timeout=120):
        deadline = time.monotonic() + timeout
        while not (folder / name).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} never came")
            time.sleep(0.02)

    def steps():
        return subprocess.run(["squeue", "-h", "-s", "--jobs", os.environ["SLURM_JOB_ID"], "-o", "%j %N"],
                              capture_output=True, text=True).stdout.split("\\n")

    peer = subprocess.Popen(["srun", "--exact", "-N1", "-n1", "-w", "node2", "sleep", "600"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not any(line.startswith("sleep node2") for line in steps()):
        time.sleep(0.05)
    with SlurmJobExecutor() as exe:
        futures = [exe.submit(started_on, str(folder), f"call{i}", 600, resource_dict={"slurm_cmd_args": ["--nodelist=node2"]})
                   for i in range(n)]
        ends = {}
        for i, f in enumerate(futures):
            f.add_done_callback(lambda f, i=i: ends.__setitem__(i, time.time()))
        for i in range(n):
            wait_file(f"call{i}")
        (folder / "ready").write_text("")
        errors = [str(f.exception(timeout=600)) for f in futures]
        print("errors", time.time(), errors, flush=True)
        peer.wait(timeout=900)
        peer_end = time.time()
    report = {"errors": errors, "ends": [ends[i] for i in range(n)], "peer_end": peer_end, "peer_code": peer.returncode}
    (folder / "report.tmp").write_text(json.dumps(report))
    (folder / "report.tmp").rename(folder / "report.json")
""")

NAME = "lost node: death to calls' errors"


def wait_file(path: Path, timeout: float, job: str, cluster) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        state = cluster.job(job).get("JobState")
        if state not in ("PENDING", "RUNNING") or time.monotonic() > deadline:
            out = (path.parent / "job.out")
            raise RuntimeError(f"job {job} {state}, no {path.name}:\n{out.read_text() if out.exists() else ''}")
        time.sleep(0.02)


def measure(args, cluster, folder: Path) -> dict:
    (folder / "kernel.py").write_text(KERNEL)
    (folder / "job.sh").write_text(f"#!/bin/bash\nexec {sys.executable} {folder / 'kernel.py'} {folder} {args.n}\n")
    job = cluster.sbatch(folder / "job.sh", "--no-kill", "--no-requeue", "-N2", f"--ntasks-per-node={CPUS_PER_NODE}",
                         "-o", str(folder / "job.out"), env={"PYTHONPATH": c.REPO}, cwd=folder)
    try:
        wait_file(folder / "ready", 120, job, cluster)
        died = kill_node(str(cluster.base), "node2")
        c.say("node2 killed; waiting for the calls' errors and for SLURM to end the bare step")
        wait_file(folder / "report.json", 900, job, cluster)
        report = json.loads((folder / "report.json").read_text())
        return {"died": died, **report}
    finally:
        cluster.run("scancel", job)


def main() -> int:
    # node2 has CPUS_PER_NODE CPUs: the bare step takes one, the calls the others.
    args = c.parse_args(__doc__.splitlines()[0], full=CPUS_PER_NODE - 1, quick=CPUS_PER_NODE - 1, what="calls on node2")
    if not 1 <= args.n < CPUS_PER_NODE:
        sys.exit(f"-n must be 1 to {CPUS_PER_NODE - 1}: node2 has {CPUS_PER_NODE} CPUs and the bare step takes one")
    # A timeout's SIGTERM still stops the cluster (finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    c.header("lost node", args)
    why = _why_not()
    if why:
        c.say(f"not run: {why}")
        c.report(args, NAME, f"not run ({why})", "", "", "n/a", "n/a")
        return 0
    slurmd_timeout = "10" if args.quick else "30"
    with open(LOCK, "w") as lock:
        c.say(f"waiting for {LOCK} (one 2-node cluster per machine)")
        fcntl.flock(lock, fcntl.LOCK_EX)
        cluster = SlurmMultiCluster(base=Path(BASE), cpus_per_node=CPUS_PER_NODE, SLURMD_TIMEOUT=slurmd_timeout)
        cluster.start()
        saved = {k: os.environ.get(k) for k in cluster.env}
        os.environ.update(cluster.env)
        try:
            with tempfile.TemporaryDirectory(prefix="executorlab-bench-lost-node-") as folder:
                result = measure(args, cluster, Path(folder))
        finally:
            cluster.stop()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    delays = [end - result["died"] for end in result["ends"]]
    peer = result["peer_end"] - result["died"]
    silent = all("was silent for" in e and "on node2" in e for e in result["errors"])
    c.say(f"calls' errors {', '.join(f'{d:.1f} s' for d in delays)} after node2 died; first error: {result['errors'][0][:300]}")
    c.say(f"bare srun step on node2 ended {peer:.1f} s after (exit code {result['peer_code']}), SlurmdTimeout={slurmd_timeout}")
    ours = f"{c.median(delays):.1f} s median, {max(delays):.1f} s max ({len(delays)} calls{'' if silent else ', not all as silence'})"
    c.report(args, NAME, ours, f"{peer:.1f} s (bare srun step, SlurmdTimeout={slurmd_timeout})",
             c.times(c.median(delays) / peer), f"≤ {LIMIT + 1} s (--worker-silence-limit {LIMIT} s + the 1 s check)",
             max(delays) <= LIMIT + 1 and silent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
