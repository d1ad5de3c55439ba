#!/usr/bin/python3
"""Profile one benchmark: cProfile on the client (main thread) and ``node --cpu-prof`` on the private bridge.

    /usr/bin/python3 bench/profile_run.py roundtrip.py --quick [--top 25]

Prints the client's functions by own time, then the bridge's (from the .cpuprofile node writes when
it exits); both files are kept in a temporary directory whose path is printed.
"""

import atexit
import collections
import cProfile
import glob
import json
import os
import pstats
import runpy
import sys
import tempfile

import _common as c  # noqa: F401  (sys.path and the MPI environment, as in the benchmarks)


def bridge_self_times(path: str) -> list:
    """(self ms, function, location) of a V8 .cpuprofile, largest first."""
    with open(path, encoding="utf-8") as f:
        profile = json.load(f)
    nodes = {node["id"]: node for node in profile["nodes"]}
    micros = collections.Counter()
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"]):
        frame = nodes[node_id]["callFrame"]
        where = f"{os.path.basename(frame['url'])}:{frame['lineNumber'] + 1}" if frame["url"] else ""
        micros[(frame["functionName"] or "(anonymous)", where)] += delta
    return [(us / 1000, name, where) for (name, where), us in micros.most_common()]


def main() -> None:
    argv = sys.argv[1:]
    top = 25
    if "--top" in argv:
        i = argv.index("--top")
        top = int(argv[i + 1])
        del argv[i : i + 2]
    if not argv or not argv[0].endswith(".py"):
        sys.exit(__doc__)
    script = os.path.join(c.BENCH_DIR, argv[0])
    directory = tempfile.mkdtemp(prefix="executorlab-profile-")

    from executorlab.client import bridge_process

    plain_command = bridge_process.bridge_command
    bridge_process.bridge_command = lambda *a: (lambda cmd: [cmd[0], "--cpu-prof", f"--cpu-prof-dir={directory}", *cmd[1:]])(
        plain_command(*a))

    def summary() -> None:  # after the private bridge stopped (atexit runs in reverse order)
        client = os.path.join(directory, "client.pstats")
        profiler.dump_stats(client)
        print(f"\n## client (cProfile, main thread), {client}")
        pstats.Stats(client).sort_stats("tottime").print_stats(top)
        for path in sorted(glob.glob(os.path.join(directory, "*.cpuprofile"))):
            rows = bridge_self_times(path)
            total = sum(row[0] for row in rows)
            print(f"## bridge (node --cpu-prof), {path}: {total:.0f} ms sampled")
            for self_ms, name, where in rows[:top]:
                print(f"{self_ms:9.1f} ms {100 * self_ms / total:5.1f}%  {name}  {where}")

    atexit.register(summary)
    sys.argv = [script, *argv[1:]]
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        if stop.code not in (0, None):
            print(f"(the benchmark exited with {stop.code})")
    finally:
        profiler.disable()
        if bridge_process._private is not None:
            bridge_process._private.stop()  # SIGTERM: node writes its profile as it exits


if __name__ == "__main__":
    main()
