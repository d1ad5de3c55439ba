"""The SLURM executors on a real 2-node SLURM (node1, node2: 2 CPUs each; ``slurm_multi``).

Kernels that need an allocation run as a batch job of both nodes, as on a cluster: the batch script lands on
node1, the kernel's private bridge starts there, and the workers started on node2 reach it over TCP.
"""

import collections
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from executorlab.tests.conftest import REPO, StandaloneBridge
from executorlab.tests.test_slurm_cluster import kernel, output_of

pytestmark = pytest.mark.usefixtures("slurm_multi")

PRELUDE = """
import json, os, socket, time
from pathlib import Path
from executorlab import SlurmJobExecutor
os.environ.pop("EXECUTORLAB_CONNECTION_FILE", None)  # the kernel's own bridge, on the job's first node

def ranks():
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    return [comm.Get_rank(), comm.Get_size(), socket.gethostname()]

def together(directory, n, executorlib_worker_id=None):
    # Arrives, then waits (at most 60 s) until n calls have: all n run at the same time, whatever the timing.
    Path(directory, f"{socket.gethostname()}-{os.getpid()}").touch()
    deadline = time.time() + 60
    while len(os.listdir(directory)) < n and time.time() < deadline:
        time.sleep(0.05)
    return {"host": socket.gethostname(), "arrived": len(os.listdir(directory)), "worker": executorlib_worker_id,
            "endpoint": os.environ.get("EXECUTORLAB_WORKER_ENDPOINT"), "cpus": os.environ.get("SLURM_CPUS_ON_NODE")}
"""


def kernel_in_job(slurm_multi, tmp_path: Path, code: str, timeout: float = 180):
    """Runs kernel code as a batch job of both nodes (2 tasks per node); returns the JSON its last line prints."""
    script = tmp_path / "kernel.py"
    script.write_text(PRELUDE + textwrap.dedent(code))
    job_script = tmp_path / "kernel.sh"
    job_script.write_text(f"#!/bin/bash\nexec {sys.executable} {script}\n")
    job_id = slurm_multi.sbatch(
        job_script, "--nodes=2", "--ntasks-per-node=2", "--no-requeue", "--time=5", f"--chdir={tmp_path}",
        f"--output={tmp_path / 'kernel.out'}", f"--error={tmp_path / 'kernel.err'}", env={"PYTHONPATH": str(REPO)},
    )
    job = slurm_multi.wait_for_job(job_id, timeout)
    out, err = (p.read_text() if p.exists() else "" for p in (tmp_path / "kernel.out", tmp_path / "kernel.err"))
    assert job["JobState"] == "COMPLETED", f"kernel job {job_id} ended {job['JobState']}:\n{out}\n{err}"
    assert job["BatchHost"] == "node1" and job["NodeList"] == "node[1-2]", job
    return json.loads(out.strip().splitlines()[-1])


def by_host(results) -> dict:
    return dict(collections.Counter(r["host"] for r in results))


def test_the_cluster_has_two_nodes_with_names_of_their_own(slurm_multi):
    # This test's SLURM_CONF is the 2-node cluster's, whatever the single-node fixture set for the session.
    assert os.environ["SLURM_CONF"] == str(slurm_multi.conf)
    steps = subprocess.run(["srun", "-N2", "-n2", "hostname"], capture_output=True, text=True, timeout=60)
    assert sorted(steps.stdout.split()) == ["node1", "node2"], steps.stderr
    assert slurm_multi.on_node("node2", "hostname").stdout.strip() == "node2"


def test_job_mode_mpi_call_with_num_nodes_2_has_a_rank_on_each_node(slurm_multi, tmp_path):
    out = kernel_in_job(slurm_multi, tmp_path, """
with SlurmJobExecutor() as exe:
    print(json.dumps(exe.submit(ranks, resource_dict={"cores": 2, "num_nodes": 2}).result()))
""")
    assert sorted(map(tuple, out)) == [(0, 2, "node1"), (1, 2, "node2")]


def test_cluster_mode_mpi_call_with_num_nodes_2_has_a_rank_on_each_node(tmp_path):
    cache = tmp_path / "cache"
    out = output_of(kernel(f"""
import socket
from executorlab import SlurmClusterExecutor

def ranks():
    from mpi4py import MPI
    return [MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size(), socket.gethostname()]

with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    print(json.dumps(exe.submit(ranks, resource_dict={{"cores": 2, "num_nodes": 2}}).result()))
""", {}))
    assert sorted(map(tuple, out)) == [(0, 2, "node1"), (1, 2, "node2")]
    assert "#SBATCH --nodes=2" in next(cache.glob("ranks*/slurm-job.sh")).read_text()


def test_one_core_calls_fill_both_nodes_and_node2_reaches_the_bridge_over_tcp(slurm_multi, tmp_path):
    out = kernel_in_job(slurm_multi, tmp_path, f"""
barrier = {str(tmp_path / "barrier")!r}
os.mkdir(barrier)
with SlurmJobExecutor() as exe:
    print(json.dumps([f.result() for f in [exe.submit(together, barrier, 4) for _ in range(4)]]))
""")
    assert all(r["arrived"] == 4 for r in out), f"the four calls did not run at the same time: {out}"
    # 4 one-CPU steps at once in 2 nodes of 2 CPUs: two on each.
    assert by_host(out) == {"node1": 2, "node2": 2}
    # On the bridge's node the workers use its IPC socket; on node2 the TCP endpoint it advertises by name.
    endpoints = {r["host"]: set() for r in out}
    for r in out:
        endpoints[r["host"]].add(r["endpoint"].rsplit(":", 1)[0] if r["endpoint"].startswith("tcp://") else "ipc")
    assert endpoints == {"node1": {"ipc"}, "node2": {"tcp://node1"}}


def test_block_allocation_workers_fill_both_nodes_and_node2_workers_use_curve(slurm_multi, tmp_path):
    out = kernel_in_job(slurm_multi, tmp_path, f"""
import zmq

def plain_handshake(endpoint):
    # A connection without CURVE keys to the endpoint this worker uses: how does the handshake end?
    context = zmq.Context()
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    monitor = sock.get_monitor_socket(zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                                      | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_AUTH)
    sock.connect(endpoint)
    event = None
    if monitor.poll(10000):
        from zmq.utils.monitor import recv_monitor_message
        event = recv_monitor_message(monitor)["event"]
    sock.disable_monitor()
    monitor.close(linger=0)
    sock.close(linger=0)
    context.term()
    names = {{zmq.EVENT_HANDSHAKE_SUCCEEDED: "succeeded", zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "failed: protocol",
             zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "failed", zmq.EVENT_HANDSHAKE_FAILED_AUTH: "failed: auth"}}
    return names.get(event, event)

def worker_check(directory, n, executorlib_worker_id=None):
    seen = together(directory, n, executorlib_worker_id)
    if seen["endpoint"].startswith("tcp://"):
        seen["plain"] = plain_handshake(seen["endpoint"])
    return seen

barrier = {str(tmp_path / "barrier")!r}
os.mkdir(barrier)
with SlurmJobExecutor(max_workers=4, block_allocation=True) as exe:
    print(json.dumps([f.result() for f in [exe.submit(worker_check, barrier, 4) for _ in range(4)]]))
""")
    assert all(r["arrived"] == 4 for r in out), f"the four calls did not run at the same time: {out}"
    assert sorted(r["worker"] for r in out) == [0, 1, 2, 3]
    assert by_host(out) == {"node1": 2, "node2": 2}
    for r in out:
        if r["host"] == "node2":
            assert r["endpoint"].startswith("tcp://node1:"), r
            # The worker got through, so it spoke CURVE: the endpoint refuses a connection that does not.
            assert r["plain"].startswith("failed"), r
        else:
            assert r["endpoint"].startswith("ipc://"), r


def test_job_mode_exclusive_call_has_its_node_to_itself(slurm_multi, tmp_path):
    out = kernel_in_job(slurm_multi, tmp_path, f"""
alone, others = {str(tmp_path / "alone")!r}, {str(tmp_path / "others")!r}
os.mkdir(alone)
os.mkdir(others)

def exclusive(others):
    # Runs until both other calls run too; they must not be on this node meanwhile.
    Path(alone, socket.gethostname()).touch()
    deadline = time.time() + 60
    while len(os.listdir(others)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    return {{"host": socket.gethostname(), "cpus": os.environ.get("SLURM_CPUS_ON_NODE"), "others": len(os.listdir(others))}}

with SlurmJobExecutor() as exe:
    first = exe.submit(exclusive, others, resource_dict={{"exclusive": True}})
    deadline = time.time() + 60
    while not os.listdir(alone) and time.time() < deadline:
        time.sleep(0.05)
    rest = [exe.submit(together, others, 2) for _ in range(2)]
    print(json.dumps({{"exclusive": first.result(), "others": [f.result() for f in rest]}}))
""")
    first, others = out["exclusive"], out["others"]
    assert first["others"] == 2 and all(r["arrived"] == 2 for r in others), f"the calls did not overlap: {out}"
    assert first["cpus"] == "2", f"an exclusive call gets every CPU of its node: {first}"
    other_node = ({"node1", "node2"} - {first["host"]}).pop()
    assert by_host(others) == {other_node: 2}, f"the exclusive call on {first['host']} shared its node: {out}"


def test_cluster_mode_exclusive_job_gets_whole_nodes(tmp_path):
    cache = tmp_path / "cache"
    out = output_of(kernel(f"""
import socket
from executorlab import SlurmClusterExecutor

def allocation(tag):  # the tag: a call of its own (the cache key does not include resource_dict)
    return [os.environ["SLURM_JOB_CPUS_PER_NODE"], os.environ["SLURM_JOB_NUM_NODES"]]

with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    shared = exe.submit(allocation, "shared")
    whole = exe.submit(allocation, "whole", resource_dict={{"exclusive": True}})
    print(json.dumps([shared.result(), whole.result()]))
""", {}))
    assert out == [["1", "1"], ["2", "1"]], "1 core asked: the exclusive job has all 2 CPUs of its node"
    scripts = {p.parent.name: p.read_text() for p in cache.glob("allocation*/slurm-job.sh")}
    assert sorted("#SBATCH --exclusive" in s for s in scripts.values()) == [False, True]


def test_cluster_mode_afterok_chain_of_two_node_jobs(tmp_path):
    cache = tmp_path / "cache"
    out = output_of(kernel(f"""
import socket
from executorlab import SlurmClusterExecutor

def link(previous):
    from mpi4py import MPI
    hosts = sorted(MPI.COMM_WORLD.allgather(socket.gethostname()))
    return {{"n": previous[0]["n"] + 1 if previous else 1, "hosts": hosts}}

two_nodes = {{"cores": 2, "num_nodes": 2}}
with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    a = exe.submit(link, None, resource_dict=two_nodes)
    b = exe.submit(link, a, resource_dict=two_nodes)
    c = exe.submit(link, b, resource_dict=two_nodes)
    print(json.dumps([a.result(), b.result(), c.result()]))
""", {}))
    both = ["node1", "node2"]
    assert out == [[{"n": n, "hosts": both}] * 2 for n in (1, 2, 3)]
    scripts = [p.read_text() for p in cache.glob("link*/slurm-job.sh")]
    assert len(scripts) == 3 and all("#SBATCH --nodes=2" in s for s in scripts)
    assert sum("--dependency=afterok:" in s for s in scripts) == 2


def test_cluster_mode_jobs_go_to_the_kernels_slurm_conf_whatever_the_bridges(tmp_path):
    # A bridge started with another cluster's SLURM_CONF (as by a Jupyter server, or by an earlier executor of
    # the process). That config fails to parse, so a client given it stops at once, without any network I/O
    # (without any config, SLURM clients look for a controller in DNS).
    other = tmp_path / "other-cluster.conf"
    other.write_text("NotASlurmOption=the bridge must not use this config\n")
    saved = dict(os.environ)
    os.environ["SLURM_CONF"] = str(other)
    try:
        bridge = StandaloneBridge(tmp_path, "--client-timeout", "5")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        cache = tmp_path / "cache"
        out = output_of(kernel(f"""
import socket
from executorlab import SlurmClusterExecutor

with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    print(json.dumps(exe.submit(socket.gethostname).result()))
""", bridge.env))
        assert out in ("node1", "node2")
    finally:
        bridge.stop()
