#!/usr/bin/python3
"""Throughput of trivial tasks on 2 warm block-allocation workers vs ProcessPoolExecutor(2).

Each contender: start it, warm it up (its workers run), then ROUNDS times submit N tasks ``sum([i, i])``
and wait for all of them, the contenders taking turns; the median round gives tasks/s.
Target: executorlab >= 1.0x the pool.
"""

import concurrent.futures

import _common as c

WORKERS = 2
WARMUP = 200
TARGET = 1.0


def measure(contenders: dict, n: int, rounds: int) -> dict:
    """Median tasks/s of each warmed-up executor; rounds alternate between them so that both meet
    the same background noise of a shared machine."""
    rates = {name: [] for name in contenders}
    for name, executor in contenders.items():
        c.run_tasks(executor, WARMUP)
    for _ in range(rounds):
        for name, executor in contenders.items():
            rates[name].append(n / c.run_tasks(executor, n))
    for name, values in rates.items():
        c.say(f"{name}: rounds {', '.join(f'{r:.0f}' for r in values)} tasks/s")
    return {name: c.median(values) for name, values in rates.items()}


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=10_000, quick=1_000)
    rounds = 1 if args.quick else 5
    name = f"throughput, {args.n} trivial tasks, {WORKERS} block workers"
    target = f">= {TARGET:.1f}x peer"
    c.header(name, args)
    ours = c.block_executor(args, [(name, target)], WORKERS)  # started first: it may not exist yet
    contenders = {
        f"peer: concurrent.futures.ProcessPoolExecutor({WORKERS})": concurrent.futures.ProcessPoolExecutor(WORKERS),
        f"executorlab: SingleNodeExecutor(max_workers={WORKERS}, block_allocation=True)": ours,
    }
    if c.executorlib() is not None:
        contenders[f"executorlib: SingleNodeExecutor(max_workers={WORKERS}, block_allocation=True)"] = (
            c.executorlib().SingleNodeExecutor(max_workers=WORKERS, block_allocation=True))
    try:
        rates = list(measure(contenders, args.n, rounds).values())
    finally:
        for executor in contenders.values():
            executor.shutdown()
    peer, ours_rate = rates[0], rates[1]
    lib = rates[2] if len(rates) > 2 else None
    ratio = ours_rate / peer
    c.report(args, name, f"{ours_rate:.0f} tasks/s", f"{peer:.0f} tasks/s", c.times(ratio), target, ratio >= TARGET,
             None if lib is None else f"{lib:.0f} tasks/s ({c.times(lib / peer)})")


if __name__ == "__main__":
    main()
