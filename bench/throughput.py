#!/usr/bin/python3
"""Throughput of trivial tasks on 2 warm block-allocation workers vs ProcessPoolExecutor(2).

Each contender: start it, warm it up (its workers run), then ROUNDS times submit N tasks ``sum([i, i])``
and wait for all of them; the median round gives tasks/s. Target: executorlab >= 1.0x the pool.
"""

import concurrent.futures

import _common as c

WORKERS = 2
WARMUP = 200
TARGET = 1.0


def measure(make_executor, n: int, rounds: int) -> float:
    """Median tasks/s over the rounds, on a warmed-up executor."""
    with make_executor() as executor:
        c.run_tasks(executor, WARMUP)
        rates = [n / c.run_tasks(executor, n) for _ in range(rounds)]
    c.say(f"rounds: {', '.join(f'{r:.0f}' for r in rates)} tasks/s")
    return c.median(rates)


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=10_000, quick=1_000)
    rounds = 1 if args.quick else 3
    name = f"throughput, {args.n} trivial tasks, {WORKERS} block workers"
    target = f">= {TARGET:.1f}x peer"
    c.header(name, args)
    executor = c.block_executor(args, [(name, target)], WORKERS)  # started first: it may not exist yet
    c.say(f"peer: concurrent.futures.ProcessPoolExecutor({WORKERS})")
    peer = measure(lambda: concurrent.futures.ProcessPoolExecutor(WORKERS), args.n, rounds)
    c.say(f"executorlab: SingleNodeExecutor(max_workers={WORKERS}, block_allocation=True)")
    ours = measure(lambda: executor, args.n, rounds)
    lib = None
    if c.executorlib() is not None:
        c.say(f"executorlib: SingleNodeExecutor(max_workers={WORKERS}, block_allocation=True)")
        lib = measure(lambda: c.executorlib().SingleNodeExecutor(max_workers=WORKERS, block_allocation=True), args.n, rounds)
    ratio = ours / peer
    c.report(args, name, f"{ours:.0f} tasks/s", f"{peer:.0f} tasks/s", c.times(ratio), target, ratio >= TARGET,
             None if lib is None else f"{lib:.0f} tasks/s ({c.times(lib / peer)})")


if __name__ == "__main__":
    main()
