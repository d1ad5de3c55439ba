#!/usr/bin/python3
"""flux: FluxJobExecutor calls against bare `flux run`, FluxClusterExecutor calls against bare `flux submit`.

Re-runs itself inside ``flux start --test-size=2`` (a 2-broker instance on this machine; no system instance is
needed). There:

- job mode: N x ``FluxJobExecutor().submit(noop).result()`` one after another, each call a ``flux run -n1`` job
  starting a Python worker that connects back to the bridge (median). Peers, one after another (median):
  ``flux run -n1 true`` (the bare job launch) and ``flux run -n1 python3 -c "import zmq, cloudpickle"`` (the launch
  and a worker's own imports, the floor a worker per call can reach).
- cluster mode: M x ``FluxClusterExecutor(cache_directory=fresh).submit(inc, i)``, first submit to last result
  (each call one ``flux batch`` job running ``python -m executorlab.cache_worker``). Peer: M x ``flux submit
  python3 -c '<pickle.dump(i + 1, …)>'`` one after another, then one ``flux jobs`` call for all of them every
  0.2 s until every job is INACTIVE and COMPLETED. 3 rounds (``--quick``: 1), the two taking turns; medians.

No targets: the rows are information (met? n/a). Without flux on PATH the script says why and exits 0.
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

INSIDE = "--inside-flux"
POLL = 0.2  # s between flux jobs calls, as the bridge's job watcher (0.5 s) or a little more eager
TIMEOUT = 300.0
FIRST = "import pickle,sys; pickle.dump(int(sys.argv[1])+1, open(sys.argv[2],'wb'))"


def noop():
    return None


def inc(x):
    return x + 1


def flux_run(*command: str) -> None:
    subprocess.run(["flux", "run", "-n1", *command], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)


def job_mode(args) -> None:
    from executorlab import FluxJobExecutor

    n = args.n
    c.say(f"job mode: {n} calls one after another, then the peers {n} times each")
    with FluxJobExecutor() as exe:
        exe.submit(noop).result()  # the bridge is up, Python's files are in the page cache
        ours = c.time_each(lambda: exe.submit(noop).result(), n)
    bare = c.time_each(lambda: flux_run("true"), n)
    imports = c.time_each(lambda: flux_run(sys.executable, "-c", "import zmq, cloudpickle"), n)
    c.say(f"executorlab: median {c.ms(c.median(ours))}, p90 {c.ms(c.percentile(ours, 90))}; bare flux run true: "
          f"median {c.ms(c.median(bare))}; flux run python3 -c 'import zmq, cloudpickle': median {c.ms(c.median(imports))}")
    info = "none (information)"
    c.report(args, f"flux job mode: a call as a flux run job, median of {n}", c.ms(c.median(ours)),
             f"flux run -n1 true: {c.ms(c.median(bare))}", c.times(c.median(ours) / c.median(bare)), info, "n/a")
    c.report(args, f"flux job mode: a call against flux run of a worker's imports, median of {n}", c.ms(c.median(ours)),
             f"flux run python3 -c 'import zmq, cloudpickle': {c.ms(c.median(imports))}",
             c.times(c.median(ours) / c.median(imports)), info, "n/a")


def bare_submit(code: str, argument, out: str, directory: str) -> str:
    command = ["flux", "submit", f"--cwd={directory}", "--output=/dev/null", sys.executable, "-c", code, str(argument), out]
    return subprocess.run(command, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL).stdout.strip()


def wait_completed(ids: list) -> None:
    deadline = c.now() + TIMEOUT
    command = ["flux", "jobs", "-n", "--format={id}|{state}|{result}", *ids]
    while True:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows = [line.split("|") for line in out.split("\n") if line.strip()]
        failed = [r for r in rows if r[1] == "INACTIVE" and r[2] != "COMPLETED"]
        if failed:
            raise RuntimeError(f"bare flux jobs failed: {failed}")
        if len(rows) == len(ids) and all(r[1] == "INACTIVE" for r in rows):
            return
        if c.now() > deadline:
            raise RuntimeError(f"bare flux jobs not finished after {TIMEOUT:.0f} s: {rows}")
        time.sleep(POLL)


def bare_independent(directory: str, m: int) -> float:
    outs = [os.path.join(directory, f"out_{i}.pkl") for i in range(m)]
    start = c.now()
    ids = [bare_submit(FIRST, i, outs[i], directory) for i in range(m)]
    submitted = c.now()
    wait_completed(ids)
    elapsed = c.now() - start
    results = []
    for out in outs:
        with open(out, "rb") as f:
            results.append(pickle.load(f))
    if results != [i + 1 for i in range(m)]:
        raise AssertionError("wrong results from the bare flux jobs")
    c.say(f"peer: {m} bare flux submit (one after another in {c.ms(submitted - start)}), all COMPLETED after {c.ms(elapsed)}")
    return elapsed


def ours_independent(directory: str, m: int) -> float:
    from executorlab import FluxClusterExecutor

    with FluxClusterExecutor(cache_directory=directory) as exe:
        start = c.now()
        futures = [exe.submit(inc, i) for i in range(m)]
        submitted = c.now()
        results = [future.result(timeout=TIMEOUT) for future in futures]
        elapsed = c.now() - start
    if results != [i + 1 for i in range(m)]:
        raise AssertionError("wrong results from FluxClusterExecutor")
    c.say(f"executorlab: {m} x submit(inc, i) (submits returned after {c.ms(submitted - start)}), all results after {c.ms(elapsed)}")
    return elapsed


def cluster_mode(args) -> None:
    m = 10 if args.quick else 100
    rounds = 1 if args.quick else 3
    c.say(f"cluster mode: {m} calls, {rounds} round(s), the two taking turns in fresh directories; medians")
    tmp = tempfile.mkdtemp(prefix="executorlab-bench-flux-")
    ours, peer = [], []
    try:
        for r in range(rounds):
            for name, runs, measure in (("peer", peer, bare_independent), ("ours", ours, ours_independent)):
                directory = os.path.join(tmp, f"{name}-{r}")
                os.makedirs(directory)
                runs.append(measure(directory, m))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if rounds > 1:
        c.say(f"executorlab: {', '.join(c.ms(v) for v in ours)}; peer: {', '.join(c.ms(v) for v in peer)}")
    med_ours, med_peer = c.median(ours), c.median(peer)
    c.report(args, f"flux cluster mode: {m} independent calls (a flux job each), wall{'' if args.quick else ', median of 3'}",
             c.ms(med_ours), f"{m} x flux submit: {c.ms(med_peer)}", c.times(med_ours / med_peer), "none (information)", "n/a")


def main() -> None:
    inside = INSIDE in sys.argv
    argv = [a for a in sys.argv[1:] if a != INSIDE]
    sys.argv[1:] = argv
    args = c.parse_args(__doc__.splitlines()[0], full=50, quick=10, what="job-mode calls")
    if inside:
        job_mode(args)
        cluster_mode(args)
        return
    c.header("flux: job mode and cluster mode against bare flux run / flux submit", args)
    flux = shutil.which("flux")
    if flux is None:
        print("flux is not on PATH (build flux-core and put its bin/ on PATH); nothing measured", flush=True)
        return
    command = [flux, "start", "--test-size=2", sys.executable, os.path.abspath(__file__), INSIDE, *argv]
    c.say(f"running inside {' '.join(shlex.quote(w) for w in command[:3])}")
    sys.exit(subprocess.run(command).returncode)


if __name__ == "__main__":
    main()
