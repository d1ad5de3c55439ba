#!/usr/bin/python3
"""Resident memory of the (private) bridge after many finished tasks.

SingleNodeExecutor(max_workers=2, block_allocation=True); tasks ``sum([i, i])`` are submitted in batches
of BATCH and waited for, until N have finished. The bridge's VmRSS is read from /proc right after it
started and after every batch (VmHWM is the peak). Target: <= 150 MB after 100,000 finished tasks.
"""

import _common as c

TARGET_BYTES = 150 * 2**20
BATCH = 10_000


def status_bytes(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise LookupError(f"{field} not in /proc/{pid}/status")


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=100_000, quick=5_000)
    name = f"bridge RSS after {args.n:,} finished tasks"
    target = f"<= {c.mb(TARGET_BYTES)}"
    c.header(name, args)
    from executorlab.client import bridge_process

    with c.block_executor(args, [(name, target)], 2) as executor:
        private = bridge_process._private
        if private is None:
            raise SystemExit("this benchmark measures the private bridge: unset EXECUTORLAB_CONNECTION_FILE")
        pid = private.process.pid
        rss = lambda: status_bytes(pid, "VmRSS")
        at_start = rss()  # the executor exists: the bridge is up, no task has run yet
        c.say(f"bridge pid {pid}: VmRSS right after start {c.mb(at_start)}")
        done = 0
        start = c.now()
        while done < args.n:
            batch = min(BATCH, args.n - done)
            c.run_tasks(executor, batch, offset=done)
            done += batch
            c.say(f"{done:>7,} tasks finished ({done / (c.now() - start):.0f} tasks/s): VmRSS {c.mb(rss())}")
        after = rss()
        peak = status_bytes(pid, "VmHWM")
    c.say(f"VmRSS after {args.n:,} tasks {c.mb(after)}, peak (VmHWM) {c.mb(peak)}, "
          f"growth {(after - at_start) / args.n:.0f} bytes/task")
    c.report(args, name, c.mb(after), f"{c.mb(at_start)} at start", c.times(after / at_start), target,
             after <= TARGET_BYTES)


if __name__ == "__main__":
    main()
