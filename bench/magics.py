#!/usr/bin/python3
"""What %%submit --block costs over exe.submit(f, x).result(), in a real IPython kernel on one warm worker.

Both run in the same kernel (started through jupyter_client, as JupyterLab starts it) on the same
SingleNodeExecutor(max_workers=1, block_allocation=True): the peer submits a notebook function and waits;
%%submit parses the cell, sends the names it reads, shows its status line, waits, and puts the names it
assigned back. Timed inside the kernel (perf_counter around each call), after a warm-up.
"""

import json
import tempfile
from pathlib import Path

import _common as c

from executorlab.tests.conftest import StandaloneBridge
from executorlab.tests.kernel_session import KernelSession

KERNEL_CODE = """
import json, time
from executorlab import SingleNodeExecutor
exe = SingleNodeExecutor(max_workers=1, block_allocation=True)
x = 41
def f(v):
    return v + 1
def timed(fn, n):
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out
shell = get_ipython()
submit_cell = lambda: shell.run_cell_magic("submit", "--block -e exe", "y = x + 1\\ny")
plain = lambda: exe.submit(f, x).result()
timed(plain, {warmup}); timed(submit_cell, {warmup})
peer = timed(plain, {n})
ours = timed(submit_cell, {n})
assert y == 42
print("TIMES " + json.dumps({{"peer": peer, "ours": ours}}))
"""


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=300, quick=50, what="cells")
    c.header(f"%%submit --block vs exe.submit(f, x).result(), {args.n} each, 1 warm worker", args)
    folder = Path(tempfile.mkdtemp(prefix="executorlab-bench-magics-"))
    bridge = StandaloneBridge(folder)
    kernel = KernelSession(folder, bridge.env)
    try:
        kernel.run("%load_ext executorlab")
        output = kernel.run(KERNEL_CODE.format(n=args.n, warmup=max(20, args.n // 5)), timeout=600).stdout()
    finally:
        kernel.stop()
        bridge.stop()
    times = json.loads(output.split("TIMES ", 1)[1])
    peer, ours = times["peer"], times["ours"]
    for name, values in (("exe.submit(f, x).result()", peer), ("%%submit --block", ours)):
        c.say(f"{name}: median {c.ms(c.median(values))}, p90 {c.ms(c.percentile(values, 90))}, "
              f"p99 {c.ms(c.percentile(values, 99))}")
    ratio = c.median(ours) / c.median(peer)
    c.report(args, "%%submit --block round trip, median (warm worker)", c.ms(c.median(ours)),
             f"exe.submit(f, x).result(): {c.ms(c.median(peer))}", c.times(ratio), "informational", "n/a")


if __name__ == "__main__":
    main()
