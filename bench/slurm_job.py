#!/usr/bin/python3
"""SLURM job mode: a call as an srun step of the allocation vs bare ``srun -n1 --exact`` steps.

The script starts its own single-node SLURM (``executorlab.tests.slurm.SlurmCluster``, 8 CPUs, under
$EXECUTORLAB_TEST_SLURM_BASE, default /tmp/executorlab-bench-slurm; ports 6917/6918 like the test cluster, so
never while the SLURM tests run) and re-runs itself inside ``salloc --ntasks=8``. There:

- sequential: N x ``submit(noop).result()`` on ``SlurmJobExecutor()`` (each call an ``srun --exact`` step that
  starts a Python worker which connects back to the bridge) vs N bare ``srun -n1 --exact true`` steps one after
  another; medians. For context also N x ``srun -n1 --exact python3 -c pass`` and
  ``... python3 -c "import zmq, cloudpickle"`` (a worker's own imports).
- at once: N calls submitted, then all results awaited (wall, calls/s) vs N bare
  ``srun -n1 --exact python3 -c pass`` started by 8 threads (one per CPU of the allocation); the most steps
  squeue showed at once (sampled every 0.1 s) is printed for both. For context the same with the worker's imports.
- block allocation: N x ``submit(noop).result()`` on ``SlurmJobExecutor(max_workers=2, block_allocation=True)``
  after one call that starts the workers (warm workers: no step per call); median, against the bare step.

No targets: the rows are information (met? n/a). Without slurmctld/slurmd/munged, or not as root, the script
says why and exits 0.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("EXECUTORLAB_TEST_SLURM_BASE", "/tmp/executorlab-bench-slurm")  # read when slurm.py is imported

import _common as c

INSIDE = "--inside"
CPUS = 8  # SlurmCluster's node, and the allocation
_PORT = int(os.environ.get("EXECUTORLAB_TEST_SLURM_PORT", "6917"))
PORTS = (_PORT, _PORT + 1)  # SlurmCluster's slurmctld and slurmd
PORT_WAIT = 120.0  # s to wait for another cluster on those ports (the tests') to go away
SRUN_TRUE = ["srun", "-n1", "--exact", "true"]
SRUN_PYTHON = ["srun", "-n1", "--exact", sys.executable, "-c", "pass"]
SRUN_IMPORTS = ["srun", "-n1", "--exact", sys.executable, "-c", "import zmq, cloudpickle"]  # a worker's own imports


def noop():
    return None


# ---- outside: the cluster and the allocation


def busy_ports() -> list:
    """The ports of PORTS something listens on (another single-node SLURM: the tests')."""
    busy = []
    for port in PORTS:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                busy.append(port)
    return busy


def wait_for_ports(cluster) -> str:
    """'' once PORTS are free (after stopping a cluster of our own BASE left by a killed run), else why not."""
    cluster.stop()
    deadline = time.monotonic() + PORT_WAIT
    said = False
    while busy_ports():
        if time.monotonic() > deadline:
            return (f"ports {busy_ports()} still in use after {PORT_WAIT:.0f} s (another SLURM, e.g. the tests'; "
                    f"see pgrep -af slurmctld)")
        if not said:
            c.say(f"ports {busy_ports()} in use (another SLURM, the tests'?): waiting up to {PORT_WAIT:.0f} s")
            said = True
        time.sleep(2)
    return ""


def not_run(args, why: str, names) -> None:
    print(f"not run: {why}", flush=True)
    for name in names:
        c.report(args, name, f"not run: {why}", "", "", "none (information)", "n/a")


def with_cluster(args, names, body) -> int:
    """Start a single-node SLURM (SlurmCluster), run body() (its exit code), stop the cluster whatever happened.
    Without SLURM (or not root): say why, a row per name, 0. Ports taken for good: a row per name, 1."""
    from executorlab.tests.slurm import BASE, SlurmCluster, _why_not

    why = _why_not()
    if why:
        not_run(args, f"no SLURM: {why}", names)
        return 0
    cluster = SlurmCluster()
    why = wait_for_ports(cluster)
    if why:
        not_run(args, why, names)
        return 1
    t0 = c.now()
    try:
        cluster.start()  # sets SLURM_CONF for the salloc/srun/sbatch/squeue started from here
        c.say(f"single-node SLURM under {BASE} up in {c.ms(c.now() - t0)} ({CPUS} CPUs, ports {PORTS[0]}/{PORTS[1]})")
        # the workers (steps, batch jobs) import executorlab from this checkout
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [c.REPO, os.environ.get("PYTHONPATH")]))
        return body()
    finally:
        cluster.stop()


def outside(args, names) -> int:
    command = ["salloc", f"--ntasks={CPUS}", "--quiet", sys.executable, os.path.abspath(__file__), INSIDE, *sys.argv[1:]]
    return with_cluster(args, names, lambda: subprocess.run(command, stdin=subprocess.DEVNULL).returncode)


# ---- inside the allocation


def summary(times: list) -> str:
    return (f"median {c.ms(c.median(times))}, min {c.ms(min(times))}, p90 {c.ms(c.percentile(times, 90))}, "
            f"max {c.ms(max(times))}, total {c.ms(sum(times))}")


def bare_steps(command: list, n: int) -> list:
    run = lambda: subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    run()  # warm-up
    return c.time_each(run, n)


def bare_steps_at_once(command: list, n: int) -> float:
    """n bare steps, CPUS at a time (srun waits for free CPUs otherwise); the wall time."""
    run = lambda _: subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    with ThreadPoolExecutor(CPUS) as pool:
        start = c.now()
        list(pool.map(run, range(n)))
        return c.now() - start


class StepCounter:
    """The most steps of this allocation squeue showed at once, sampled every 0.1 s while in the with block."""

    def __init__(self):
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        command = ["squeue", "--steps", "--noheader", f"--jobs={os.environ.get('SLURM_JOB_ID')}", "--format=%i"]
        while not self._stop.wait(0.1):
            out = subprocess.run(command, capture_output=True, text=True).stdout
            self.most = max(self.most, len(out.split()))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def sequential(exe, n: int) -> list:
    def call():
        if exe.submit(noop).result(timeout=120) is not None:
            raise AssertionError("noop returned something")

    return c.time_each(call, n)


def at_once(exe, n: int) -> float:
    start = c.now()
    futures = [exe.submit(noop) for _ in range(n)]
    results = [future.result(timeout=600) for future in futures]
    elapsed = c.now() - start
    if results != [None] * n:
        raise AssertionError("noop returned something")
    return elapsed


def inside(args, names) -> None:
    from executorlab import SlurmJobExecutor

    n = args.n
    c.say(f"inside salloc --ntasks={CPUS}: job {os.environ.get('SLURM_JOB_ID')}, "
          f"SLURM_JOB_CPUS_PER_NODE={os.environ.get('SLURM_JOB_CPUS_PER_NODE')}")

    true_steps = bare_steps(SRUN_TRUE, n)
    c.say(f"peer: {n} x bare `{' '.join(SRUN_TRUE)}` one after another: {summary(true_steps)}")
    python_steps = bare_steps(SRUN_PYTHON, n)
    c.say(f"peer (context): {n} x bare `srun -n1 --exact python3 -c pass`: {summary(python_steps)}")
    import_steps = bare_steps(SRUN_IMPORTS, n)
    c.say(f"peer (context): {n} x bare `srun -n1 --exact python3 -c 'import zmq, cloudpickle'`: {summary(import_steps)}")

    with SlurmJobExecutor() as exe:
        start = c.now()
        exe.submit(noop).result(timeout=120)
        c.say(f"executorlab: SlurmJobExecutor(), first call (bridge start + one step): {c.ms(c.now() - start)}")
        ours = sequential(exe, n)
        c.say(f"executorlab: {n} x submit(noop).result() one after another, each an srun step that starts a Python "
              f"worker which connects back to the bridge (the bare step runs `true`): {summary(ours)}")
        with StepCounter() as steps:
            ours_wall = at_once(exe, n)
    c.say(f"executorlab: {n} x submit(noop) at once, then all results: {c.ms(ours_wall)} ({n / ours_wall:.1f} calls/s; "
          f"at most {steps.most} steps seen at once, squeue every 0.1 s)")
    with StepCounter() as steps:
        peer_wall = bare_steps_at_once(SRUN_PYTHON, n)
    c.say(f"peer: {n} x bare `srun -n1 --exact python3 -c pass`, {CPUS} threads: {c.ms(peer_wall)} "
          f"({n / peer_wall:.1f} steps/s; at most {steps.most} steps seen at once)")
    import_wall = bare_steps_at_once(SRUN_IMPORTS, n)
    c.say(f"peer (context): {n} x bare `srun -n1 --exact python3 -c 'import zmq, cloudpickle'`, {CPUS} threads: "
          f"{c.ms(import_wall)} ({n / import_wall:.1f} steps/s)")

    with SlurmJobExecutor(max_workers=2, block_allocation=True) as exe:
        start = c.now()
        exe.submit(noop).result(timeout=120)
        c.say(f"executorlab: SlurmJobExecutor(max_workers=2, block_allocation=True), first call (workers start): "
              f"{c.ms(c.now() - start)}")
        block = sequential(exe, n)
    c.say(f"executorlab: {n} x submit(noop).result() on warm block workers: {summary(block)}")

    o, p, py, imp = c.median(ours), c.median(true_steps), c.median(python_steps), c.median(import_steps)
    c.say(f"overhead per call (medians) over the bare `srun true` step: {c.ms(o - p)} ({c.times(o / p)}); "
          f"over `srun python3 -c pass`: {c.ms(o - py)} ({c.times(o / py)}); "
          f"over `srun python3 -c 'import zmq, cloudpickle'`: {c.ms(o - imp)} ({c.times(o / imp)})")
    target = "none (information)"
    c.report(args, names[0], c.ms(o), f"{c.ms(p)} (srun true); {c.ms(py)} (srun python3 -c pass)", c.times(o / p),
             target, "n/a")
    c.report(args, names[1], f"{c.ms(ours_wall)} ({n / ours_wall:.1f}/s)", f"{c.ms(peer_wall)} ({n / peer_wall:.1f}/s)",
             c.times(ours_wall / peer_wall), target, "n/a")
    b = c.median(block)
    c.report(args, names[2], c.ms(b), f"{c.ms(p)} (srun true)", c.times(b / p), target, "n/a")


def main() -> None:
    is_inside = INSIDE in sys.argv
    if is_inside:
        sys.argv.remove(INSIDE)
    args = c.parse_args(__doc__.splitlines()[0], full=100, quick=10, what="calls per measurement")
    names = [f"SLURM job mode: sequential call (one srun step each), median of {args.n}",
             f"SLURM job mode: {args.n} calls at once, wall",
             f"SLURM job mode, block_allocation (2 warm workers): sequential call, median of {args.n}"]
    if is_inside:
        inside(args, names)
        return
    c.header(f"SLURM job mode: {args.n} calls as srun steps of an allocation", args)
    sys.exit(outside(args, names))


if __name__ == "__main__":
    main()
