"""Kill a node of the 2-node test SLURM (scripts/slurm/multi/) as a node dies, and bring it back.

A node there is a network namespace (slm-nodeN, hostname nodeN) with one veth into the cluster's bridge.
Killing it takes its link down first (so nothing it had open says goodbye: the bridge sees only silence, as
with a node that lost power or its network), then SIGKILLs every process in its namespace (slurmd, slurmstepds,
the job's processes), as stop-multi.sh does. Restoring brings the link up and starts its slurmd again as
start-multi.sh does (ReturnToService=2 makes the node usable again), recording the new pid for stop-multi.sh.
Only the namespaces and veths recorded in $BASE/run/net are touched.
"""

import os
import re
import subprocess
import time
from pathlib import Path


def _records(base: str, kind: str) -> list:
    lines = Path(base, "run", "net").read_text().splitlines()
    return [line.split(None, 1)[1] for line in lines if line.startswith(kind + " ")]


def _network_of(base: str, node: str):
    """(netns, root-side veth) of `node` ("node2": the second recorded of each)."""
    number = re.search(r"(\d+)$", node)
    index = int(number.group(1)) - 1 if number else -1
    namespaces, veths = _records(base, "netns"), _records(base, "veth")
    if not 0 <= index < len(namespaces):
        raise ValueError(f"{node} is not a node of the cluster under {base} (namespaces {namespaces})")
    return namespaces[index], veths[index]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except OSError:
        return False


def namespace_pids(namespace: str) -> list:
    out = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout
    return [int(p) for p in out.split() if _alive(int(p))]


def kill_node(base: str, node: str) -> float:
    """Take `node`'s link down, then SIGKILL everything in its namespace; time.time() when the link went down."""
    namespace, veth = _network_of(base, node)
    subprocess.run(["ip", "link", "set", veth, "down"], check=True)
    died = time.time()
    subprocess.run(["ip", "-n", namespace, "link", "set", "slm0", "down"], check=True)
    for _ in range(200):
        left = namespace_pids(namespace)
        if not left:
            return died
        for pid in left:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"processes left in {namespace} after SIGKILL: {namespace_pids(namespace)}")


def restore_node(base: str, node: str, conf: str, timeout: float = 60) -> None:
    """Bring `node`'s link up and start its slurmd again; returns once SLURM shows the node usable."""
    namespace, veth = _network_of(base, node)
    subprocess.run(["ip", "-n", namespace, "link", "set", "slm0", "up"], check=True)
    subprocess.run(["ip", "link", "set", veth, "up"], check=True)
    log = open(Path(base, "log", f"slurmd-{node}.out"), "ab")
    # As start-multi.sh: nsenter/unshare/sh exec in place, so the pid is slurmd's (Popen's child is no group
    # leader, so setsid does not fork).
    slurmd = subprocess.Popen(
        ["setsid", "nsenter", f"--net=/run/netns/{namespace}", "unshare", "--uts", "sh", "-c",
         'hostname "$1" && exec /usr/sbin/slurmd -D -N "$1" -f "$2"', "sh", node, conf],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
    )
    log.close()
    pids = Path(base, "run", "pids")
    lines = [line for line in pids.read_text().splitlines() if not line.startswith(f"slurmd-{node} ")]
    pids.write_text("\n".join([*lines, f"slurmd-{node} {slurmd.pid}"]) + "\n")
    env = dict(os.environ, SLURM_CONF=conf)
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = subprocess.run(["sinfo", "-h", "-N", "-n", node, "-o", "%T"], capture_output=True, text=True,
                               env=env).stdout.strip()
        if state in ("idle", "mixed", "allocated"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{node} did not come back within {timeout} s (sinfo says {state!r})")
