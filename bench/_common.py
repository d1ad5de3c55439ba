"""Shared helpers of the benchmark scripts: arguments, timing, percentiles, machine facts, result rows.

Every script measures executorlab and a peer in the same run and reports one or more rows
(benchmark | executorlab | peer | ratio | target | met?). A row is printed as a readable line and,
with ``--results FILE``, appended to FILE as one JSON object per line; ``python3 _common.py table FILE``
turns such a file into the Markdown table that ``run.sh`` prints.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
if REPO not in sys.path:  # the scripts run from any directory without PYTHONPATH
    sys.path.insert(0, REPO)

# mpiexec refuses to run as root without these (the benchmark machine runs everything as root).
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")

EXIT_NEEDS_FEATURE = 3
COLUMNS = ["benchmark", "executorlab", "peer", "ratio", "target", "met?"]


# ---- arguments

def parse_args(description: str, full: int, quick: int, what: str = "tasks") -> argparse.Namespace:
    """``--quick`` (smaller N for a smoke run), ``-n`` to override N, ``--results FILE`` for run.sh."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {quick} {what} instead of {full}")
    parser.add_argument("-n", type=int, default=None, help=f"number of {what} (default {full}, {quick} with --quick)")
    parser.add_argument("--results", default=os.environ.get("BENCH_RESULTS"),
                        help="append the result rows to this JSON-lines file (run.sh uses it)")
    args = parser.parse_args()
    if args.n is None:
        args.n = quick if args.quick else full
    return args


# ---- timing and statistics

def now() -> float:
    return time.perf_counter()


def percentile(values, p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    position = (len(ordered) - 1) * p / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values) -> float:
    return statistics.median(values)


def time_each(fn, n: int) -> list:
    """Call fn() n times; the wall time of each call in seconds."""
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        durations.append(time.perf_counter() - start)
    return durations


def run_tasks(executor, n: int, offset: int = 0) -> float:
    """Submit n trivial tasks ``sum([i, i])``, then wait for all; check the results; the wall time in s."""
    start = time.perf_counter()
    futures = [executor.submit(sum, [i, i]) for i in range(offset, offset + n)]
    results = [future.result() for future in futures]
    elapsed = time.perf_counter() - start
    if results != [2 * i for i in range(offset, offset + n)]:
        raise AssertionError("wrong results from the executor")
    return elapsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms" if seconds < 0.1 else f"{seconds * 1000:.0f} ms"


def times(ratio: float) -> str:
    """A ratio with enough digits that one just over a target never shows as equal to it."""
    return f"{ratio:.3f}x" if ratio < 10 else f"{ratio:.1f}x"


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MB"


# ---- the machine

def _command_output(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_facts() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    node = _command_output(shutil.which("node") or "node", "--version")
    commit = _command_output("git", "-C", REPO, "describe", "--always", "--dirty")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"nproc={os.cpu_count()} ({cpu}), Python {platform.python_version()} ({sys.executable}), "
            f"node {node}, executorlab {commit}, load {load}")


def header(title: str, args: argparse.Namespace) -> None:
    mode = " (--quick)" if args.quick else ""
    print(f"## {title}{mode}")
    print(f"# {machine_facts()}")
    if executorlib() is not None:
        print(f"# executorlib peer from {os.environ['EXECUTORLIB_SRC']}")
    sys.stdout.flush()


def say(text: str) -> None:
    print(f"  {text}", flush=True)


# ---- the executorlab feature the script depends on

def block_executor(args: argparse.Namespace, benchmarks, max_workers: int):
    """executorlab's SingleNodeExecutor(max_workers, block_allocation=True), started; while block allocation
    is not implemented: exit non-zero, with a row per benchmark saying so."""
    from executorlab import SingleNodeExecutor

    try:
        return SingleNodeExecutor(max_workers=max_workers, block_allocation=True)
    except NotImplementedError as error:
        print(f"needs block_allocation: executorlab says {error}", flush=True)
        for name, target in benchmarks:
            report(args, name, "needs block_allocation", "", "", target, "n/a")
        sys.exit(EXIT_NEEDS_FEATURE)


# ---- the optional executorlib peer

_executorlib = False


def executorlib():
    """executorlib imported from $EXECUTORLIB_SRC (its src/ directory), or None when not set."""
    global _executorlib
    if _executorlib is False:
        _executorlib = None
        src = os.environ.get("EXECUTORLIB_SRC")
        if src:
            sys.path.insert(1, src)
            # its worker scripts import executorlib too
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
            import executorlib as module

            _executorlib = module
    return _executorlib


# ---- results

def report(args, benchmark: str, ours: str, peer: str, ratio: str, target: str, met, executorlib_figure: str = None) -> None:
    """Print one result row and append it to args.results (JSON lines) when given."""
    met_text = met if isinstance(met, str) else ("yes" if met else "**no**")
    row = {"benchmark": benchmark, "executorlab": ours, "peer": peer, "ratio": ratio, "target": target, "met?": met_text}
    if executorlib_figure is not None:
        row["executorlib"] = executorlib_figure
    line = f"RESULT {benchmark}: executorlab {ours or '-'} | peer {peer or '-'} | ratio {ratio or '-'} | target {target} | met: {met_text}"
    if executorlib_figure is not None:
        line += f" | executorlib {executorlib_figure}"
    print(line, flush=True)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


def markdown_table(rows) -> str:
    columns = COLUMNS + (["executorlib"] if any("executorlib" in row for row in rows) else [])
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) or "–" for c in columns) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "table":
        with open(sys.argv[2], encoding="utf-8") as f:
            print(markdown_table([json.loads(line) for line in f if line.strip()]))
    elif len(sys.argv) == 2 and sys.argv[1] == "machine":
        print(machine_facts())
    else:
        sys.exit("usage: _common.py table RESULTS.jsonl | _common.py machine")
