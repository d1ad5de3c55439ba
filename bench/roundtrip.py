#!/usr/bin/python3
"""Round trip of one task at a time on a warm worker (block allocation, 1 worker) vs ProcessPoolExecutor(1).

Each contender: start it, run WARMUP round trips, then N timed ``submit(sum, [1, 2]).result()``.
Targets: executorlab median <= 0.5 ms and p99 <= 2 ms.

The bridge is a long-lived server (it outlives kernels), so the figures are its steady state: the
warm-up is long enough for V8 to have optimised the hot path (the first ~3000 calls show a higher p99,
printed as "warm-up"). A further row times the same hops with nothing done at any of them
(bench/_chain.py: kernel I/O thread, Node.js CURVE ROUTERs, a worker process): the floor of this
architecture on this machine.
"""

import concurrent.futures

import _common as c
from _chain import ChainExecutor

MEDIAN_TARGET = 0.5e-3
P99_TARGET = 2e-3


def summary(times: list) -> str:
    return (f"min {c.ms(min(times))}, median {c.ms(c.median(times))}, p90 {c.ms(c.percentile(times, 90))}, "
            f"p99 {c.ms(c.percentile(times, 99))}, max {c.ms(max(times))}")


def round_trips(make_executor, n: int, warmup: int) -> list:
    with make_executor() as executor:
        cold = c.time_each(lambda: executor.submit(sum, [1, 2]).result(), warmup)
        times = c.time_each(lambda: executor.submit(sum, [1, 2]).result(), n)
    c.say(f"warm-up: {summary(cold)}")
    c.say(summary(times))
    return times


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=3_000, quick=300, what="round trips")
    warmup = 300 if args.quick else 3_000
    names = ("round trip median, warm worker", "round trip p99, warm worker")
    targets = (f"<= {c.ms(MEDIAN_TARGET)}", f"<= {c.ms(P99_TARGET)}")
    c.header(f"round trip, {args.n} sequential tasks on 1 warm worker", args)
    executor = c.block_executor(args, zip(names, targets), 1)  # started first: it may not exist yet
    c.say("peer: concurrent.futures.ProcessPoolExecutor(1)")
    peer = round_trips(lambda: concurrent.futures.ProcessPoolExecutor(1), args.n, warmup)
    c.say("floor: the same ZeroMQ hops doing nothing (bench/_chain.py)")
    floor = round_trips(ChainExecutor, args.n, warmup)
    c.say("executorlab: SingleNodeExecutor(max_workers=1, block_allocation=True)")
    ours = round_trips(lambda: executor, args.n, warmup)
    lib = None
    if c.executorlib() is not None:
        # executorlib's dependency thread polls every refresh_rate (10 ms); without it a round trip is direct.
        c.say("executorlib: SingleNodeExecutor(max_workers=1, block_allocation=True, disable_dependencies=True)")
        lib = round_trips(lambda: c.executorlib().SingleNodeExecutor(
            max_workers=1, block_allocation=True, disable_dependencies=True), args.n, warmup)
    for name, target_text, limit, stat in (
        (names[0], targets[0], MEDIAN_TARGET, c.median),
        (names[1], targets[1], P99_TARGET, lambda t: c.percentile(t, 99)),
    ):
        o, p = stat(ours), stat(peer)
        c.report(args, name, c.ms(o), c.ms(p), c.times(o / p), target_text, o <= limit,
                 None if lib is None else c.ms(stat(lib)))
    o, f = c.median(ours), c.median(floor)
    c.report(args, "round trip median, floor: same hops doing nothing", c.ms(o), f"{c.ms(f)} (floor)", c.times(o / f),
             "information", "n/a")


if __name__ == "__main__":
    main()
