#!/usr/bin/python3
"""SLURM cluster mode: one sbatch job per call (SlurmClusterExecutor) vs bare sbatch jobs doing the same work.

The script starts its own single-node SLURM (see slurm_job.py: ``SlurmCluster``, 8 CPUs, under
$EXECUTORLAB_TEST_SLURM_BASE, default /tmp/executorlab-bench-slurm; ports 6917/6918 like the test cluster, so
never while the SLURM tests run). Each measurement gets a fresh cache directory, so no call is a cache hit.

- independent: N x ``exe.submit(inc, i)`` on ``SlurmClusterExecutor(cache_directory=fresh)``, wall time from the
  first submit to the last result (each call one ``sbatch`` job running ``python -m executorlab.cache_worker``).
  Peer: N x ``sbatch --parsable -o /dev/null --wrap "python3 -c '<pickle.dump(i + 1, out_i)>' i out_i"`` one after
  another, then ``squeue --states=all --jobs=<all ids> --format=%i|%T`` every 0.2 s until every job is COMPLETED.
- chain: ``x = exe.submit(inc, 0)``, then ``x = exe.submit(inc, x)`` (afterok dependencies), C calls in all; wall
  time to the last result. Peer: C bare jobs, each reading the previous one's pickle, each submitted with
  ``--dependency=afterok:<previous>`` right away; polled the same way until the last is COMPLETED.
- 3 rounds (``--quick``: 1), the two taking turns, each in fresh directories; medians. For each chain the script
  prints which of SLURM's schedulers started its jobs: the backfill one runs every second (bf_interval=1), so
  a link waits up to 1 s after its predecessor ends unless the main scheduler, run at events, starts it.
- for information: the N independent calls again on a new executor in the first cache directory (all cache hits,
  no sbatch); the number of jobs SLURM saw during it is printed.

No targets: the rows are information (met? n/a). Without SLURM (or not as root) the script says why and exits 0;
while SlurmClusterExecutor is missing it measures the peers and exits 3.
"""

import os
import pickle
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import _common as c
import slurm_job  # the cluster: with_cluster()

POLL = 0.2  # s between squeue calls
TIMEOUT = 300.0  # s for one measurement
FAILED_STATES = {"FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"}
# the peers' jobs: the same work as inc() (a pickle in, a pickle out), written where the test can check it
FIRST = "import pickle,sys; pickle.dump(int(sys.argv[1])+1, open(sys.argv[2],'wb'))"
NEXT = "import pickle,sys; pickle.dump(pickle.load(open(sys.argv[1],'rb'))+1, open(sys.argv[2],'wb'))"


def inc(x):
    return x + 1


# ---- the peer: bare sbatch + squeue


def sbatch(code: str, argument, out: str, directory: str, after: str = None) -> str:
    wrap = " ".join(shlex.quote(str(word)) for word in (sys.executable, "-c", code, argument, out))
    command = ["sbatch", "--parsable", "-o", "/dev/null", f"--chdir={directory}", "--wrap", wrap]
    if after is not None:
        command.insert(1, f"--dependency=afterok:{after}")
    result = subprocess.run(command, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    return result.stdout.strip().split(";")[0]


def wait_completed(ids: list) -> None:
    """Poll squeue (one call for all ids) until every job is COMPLETED."""
    deadline = c.now() + TIMEOUT
    command = ["squeue", "--noheader", "--states=all", f"--jobs={','.join(ids)}", "--format=%i|%T"]
    while True:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        states = dict(line.split("|", 1) for line in out.split() if "|" in line)
        failed = {i: s for i, s in states.items() if s in FAILED_STATES}
        if failed:
            raise RuntimeError(f"bare sbatch jobs failed: {failed}")
        if len(states) == len(ids) and all(s == "COMPLETED" for s in states.values()):
            return
        if c.now() > deadline:
            raise RuntimeError(f"bare sbatch jobs not COMPLETED after {TIMEOUT:.0f} s: {states}")
        time.sleep(POLL)


def load(path: str):
    with open(path, "rb") as f:
        return pickle.load(f)


def bare_independent(directory: str, n: int) -> float:
    outs = [os.path.join(directory, f"out_{i}.pkl") for i in range(n)]
    start = c.now()
    ids = [sbatch(FIRST, i, outs[i], directory) for i in range(n)]
    submitted = c.now()
    wait_completed(ids)
    elapsed = c.now() - start
    if [load(out) for out in outs] != [i + 1 for i in range(n)]:
        raise AssertionError("wrong results from the bare sbatch jobs")
    c.say(f"peer: {n} bare sbatch jobs (submitted one after another in {c.ms(submitted - start)}), "
          f"all COMPLETED after {c.ms(elapsed)}")
    return elapsed


def bare_chain(directory: str, length: int) -> float:
    outs = [os.path.join(directory, f"chain_{k}.pkl") for k in range(length)]
    start = c.now()
    ids = [sbatch(FIRST, 0, outs[0], directory)]
    for k in range(1, length):
        ids.append(sbatch(NEXT, outs[k - 1], outs[k], directory, after=ids[-1]))
    submitted = c.now()
    wait_completed(ids)
    elapsed = c.now() - start
    if load(outs[-1]) != length:
        raise AssertionError("wrong result at the end of the bare chain")
    c.say(f"peer: chain of {length} bare sbatch jobs (--dependency=afterok:<previous>, submitted in "
          f"{c.ms(submitted - start)}), the last COMPLETED after {c.ms(elapsed)}")
    return elapsed


# ---- executorlab


def job_ids() -> set:
    """The jobs slurmctld knows (finished ones stay for MinJobAge=600 s)."""
    out = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i"], capture_output=True, text=True,
                         check=True).stdout
    return set(out.split())


def started_by(ids) -> str:
    """Which of SLURM's schedulers started these jobs: the backfill one runs every bf_interval (1 s), the main one
    also at events such as a job's end."""
    counts = {}
    for job in ids:
        out = subprocess.run(["scontrol", "--oneliner", "show", "job", job], capture_output=True, text=True).stdout
        fields = dict(field.split("=", 1) for field in out.split() if "=" in field)
        counts[fields.get("Scheduler", "?")] = counts.get(fields.get("Scheduler", "?"), 0) + 1
    return ", ".join(f"{n} by {name}" for name, n in sorted(counts.items()))


def ours_independent(executor_class, directory: str, n: int) -> float:
    with executor_class(cache_directory=directory) as exe:
        start = c.now()
        futures = [exe.submit(inc, i) for i in range(n)]
        submitted = c.now()
        results = [future.result(timeout=TIMEOUT) for future in futures]
        elapsed = c.now() - start
        if results != [i + 1 for i in range(n)]:
            raise AssertionError("wrong results from SlurmClusterExecutor")
        c.say(f"executorlab: {n} x submit(inc, i) (submits returned after {c.ms(submitted - start)}), "
              f"all results after {c.ms(elapsed)}")
    return elapsed


def ours_chain(executor_class, directory: str, length: int) -> float:
    with executor_class(cache_directory=directory) as exe:
        start = c.now()
        x = exe.submit(inc, 0)
        for _ in range(length - 1):
            x = exe.submit(inc, x)
        submitted = c.now()
        result = x.result(timeout=TIMEOUT)
        elapsed = c.now() - start
        if result != length:
            raise AssertionError(f"wrong result at the end of the chain: {result!r}")
        c.say(f"executorlab: chain of {length} (submits returned after {c.ms(submitted - start)}), "
              f"the last result after {c.ms(elapsed)}")
    return elapsed


def chain_round(measure, what: str) -> float:
    before = job_ids()
    elapsed = measure()
    new = job_ids() - before
    c.say(f"  ({what}: {len(new)} jobs, started {started_by(new)})")
    return elapsed


def measure(args, names) -> int:
    n, length, rounds = args.n, (5 if args.quick else 20), (1 if args.quick else 3)
    try:
        from executorlab import SlurmClusterExecutor
    except ImportError as error:
        SlurmClusterExecutor = None
        print(f"needs SlurmClusterExecutor: {error}; measuring the peers only", flush=True)
    c.say(f"{rounds} round(s), executorlab and the peer taking turns, each in fresh directories; medians")
    tmp = tempfile.mkdtemp(prefix="executorlab-bench-slurm-cluster-")
    times = {"peer": [], "ours": [], "peer chain": [], "ours chain": []}
    try:
        def fresh(name):
            os.makedirs(os.path.join(tmp, name))
            return os.path.join(tmp, name)

        for r in range(rounds):
            times["peer"].append(bare_independent(fresh(f"peer-{r}"), n))
            if SlurmClusterExecutor:
                times["ours"].append(ours_independent(SlurmClusterExecutor, fresh(f"independent-{r}"), n))
            times["peer chain"].append(chain_round(lambda: bare_chain(fresh(f"peer-chain-{r}"), length), "peer"))
            if SlurmClusterExecutor:
                times["ours chain"].append(chain_round(
                    lambda: ours_chain(SlurmClusterExecutor, fresh(f"chain-{r}"), length), "executorlab"))
        if SlurmClusterExecutor:
            before = job_ids()
            hits = ours_independent(SlurmClusterExecutor, os.path.join(tmp, "independent-0"), n)
            c.say(f"executorlab: the same {n} calls again on a new executor in the first round's cache directory "
                  f"(cache hits): {c.ms(hits)}, {len(job_ids() - before)} new SLURM jobs")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    info = "none (information)"
    med = {name: c.median(values) if values else None for name, values in times.items()}
    if rounds > 1:
        for name, values in times.items():
            if values:
                c.say(f"{name}: {', '.join(c.ms(v) for v in values)}")
    if SlurmClusterExecutor is None:
        for name, peer in zip(names, (med["peer"], med["peer chain"], None)):
            c.report(args, name, "needs SlurmClusterExecutor", c.ms(peer) if peer else "", "", info, "n/a")
        return c.EXIT_NEEDS_FEATURE
    c.report(args, names[0], c.ms(med["ours"]), c.ms(med["peer"]), c.times(med["ours"] / med["peer"]), info, "n/a")
    c.report(args, names[1], c.ms(med["ours chain"]), c.ms(med["peer chain"]),
             c.times(med["ours chain"] / med["peer chain"]), info, "n/a")
    c.report(args, names[2], c.ms(hits), "", "", info, "n/a")
    return 0


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=100, quick=10, what="independent calls")
    length = 5 if args.quick else 20
    rounds = "" if args.quick else ", median of 3"
    names = [f"SLURM cluster mode: {args.n} independent calls (a job each), wall{rounds}",
             f"SLURM cluster mode: dependency chain of {length} calls, wall{rounds}",
             f"SLURM cluster mode: the {args.n} calls again, all cache hits (no job), wall"]
    c.header(f"SLURM cluster mode: {args.n} calls and a chain of {length} as sbatch jobs", args)
    sys.exit(slurm_job.with_cluster(args, names, lambda: measure(args, names)))


if __name__ == "__main__":
    main()
