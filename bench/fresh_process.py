#!/usr/bin/python3
"""A fresh worker process per task (default mode, SingleNodeExecutor(max_cores=2)) vs the floor.

The floor: the same number of bare ``python3 -c "import zmq, cloudpickle"`` processes started one after
another — the least a process per task can cost. executorlab: submit N tasks ``sum([i, i])`` on a
started executor (bridge up, two tasks run before), wait for all. Rounds of both alternate; medians
are compared. Target: total <= 1.0x the floor.
"""

import shlex
import subprocess
import sys

import _common as c

TARGET = 1.0
EXECUTORLIB_PUBLISHED = 0.094  # s/task: executorlib-notes.md §10, SingleNodeExecutor(max_workers=2), 40 tasks
FLOOR_COMMAND = [sys.executable, "-c", "import zmq, cloudpickle"]


def floor(n: int) -> float:
    """Start n bare processes one after another; the wall time in s."""
    start = c.now()
    for _ in range(n):
        subprocess.run(FLOOR_COMMAND, check=True)
    return c.now() - start


def interleaved(make_executor, n: int, rounds: int) -> tuple:
    """(floor totals, executor totals): the rounds alternate so that noise on the machine hits both."""
    floors, totals = [], []
    start = c.now()
    with make_executor() as executor:
        c.run_tasks(executor, 2)  # starts the bridge (executorlab), warms the page cache
        c.say(f"executor start + 2 warm-up tasks: {c.ms(c.now() - start)}")
        floor(3)
        for _ in range(rounds):
            floors.append(floor(n))
            totals.append(c.run_tasks(executor, n))
    c.say(f"rounds (floor / executor): {', '.join(f'{f:.2f} s / {t:.2f} s' for f, t in zip(floors, totals))}")
    return floors, totals


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=100, quick=20)
    name = f"fresh process per task, {args.n} tasks, max_cores=2"
    c.header(name, args)
    from executorlab import SingleNodeExecutor

    rounds = 1 if args.quick else 3
    c.say(f"peer: {args.n} x `{shlex.join(FLOOR_COMMAND)}` one after another; executorlab: SingleNodeExecutor(max_cores=2)")
    floors, totals = interleaved(lambda: SingleNodeExecutor(max_cores=2), args.n, rounds)
    peer, ours = c.median(floors), c.median(totals)
    c.say(f"medians: floor {peer:.2f} s = {c.ms(peer / args.n)}/process, executorlab {ours:.2f} s = {c.ms(ours / args.n)}/task")
    lib = None
    if c.executorlib() is not None:
        c.say("executorlib: SingleNodeExecutor(max_cores=2)")
        lib = c.median(interleaved(lambda: c.executorlib().SingleNodeExecutor(max_cores=2), args.n, rounds)[1])
        c.say(f"executorlib median {lib:.2f} s = {c.ms(lib / args.n)}/task")
    c.say(f"for context: executorlib's measured ~{c.ms(EXECUTORLIB_PUBLISHED)}/task on a 2-core VM "
          f"(= {EXECUTORLIB_PUBLISHED * args.n:.1f} s for {args.n} tasks)")
    ratio = ours / peer
    c.report(args, name, f"{ours:.2f} s ({c.ms(ours / args.n)}/task)", f"{peer:.2f} s ({c.ms(peer / args.n)}/process)",
             c.times(ratio), f"<= {TARGET:.1f}x peer", ratio <= TARGET,
             f"~{c.ms(EXECUTORLIB_PUBLISHED)}/task published" if lib is None else f"{lib:.2f} s ({c.ms(lib / args.n)}/task)")


if __name__ == "__main__":
    main()
