"""SlurmJobExecutor against a real single-node SLURM: every call is an srun step of the kernel's allocation."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from executorlab.tests.conftest import REPO, StandaloneBridge

pytestmark = pytest.mark.usefixtures("slurm")


def in_allocation(code: str, env: dict, cpus: int = 8, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run kernel code inside a fresh `salloc -n cpus` allocation; it prints one JSON line, parsed here."""
    result = subprocess.run(
        ["salloc", f"--ntasks={cpus}", "--quiet", sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True, text=True, timeout=timeout,
    )
    return result


def output_of(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PRELUDE = """
import json, os, time
from executorlab import SlurmJobExecutor

def where():
    return {"step": os.environ.get("SLURM_STEP_ID"), "job": os.environ.get("SLURM_JOB_ID"), "pid": os.getpid()}
"""


@pytest.fixture
def bridge(tmp_path):
    """A bridge started outside any allocation: the kernel's allocation is the one steps go to."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") or k == "SLURM_CONF"}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        bridge = StandaloneBridge(tmp_path, "--client-timeout", "5")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    yield bridge
    bridge.stop()


def test_mpi_call_with_two_cores_returns_every_rank_from_an_srun_step(bridge):
    result = in_allocation(PRELUDE + """
def ranks():
    from mpi4py import MPI
    return [MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size(), os.environ.get("SLURM_STEP_ID"), os.environ["SLURM_JOB_ID"]]

with SlurmJobExecutor(resource_dict={"cores": 2}) as exe:
    print(json.dumps({"ranks": exe.submit(ranks).result(), "job": os.environ["SLURM_JOB_ID"]}))
""", bridge.env)
    out = output_of(result)
    assert [r[:2] for r in out["ranks"]] == [[0, 2], [1, 2]]
    # Both ranks are tasks of one step of the kernel's allocation.
    assert out["ranks"][0][2] is not None and out["ranks"][0][2] == out["ranks"][1][2]
    assert {r[3] for r in out["ranks"]} == {out["job"]}


def test_calls_run_as_concurrent_steps_sharing_the_allocation(bridge):
    result = in_allocation(PRELUDE + """
def span(seconds):
    start = time.time()
    time.sleep(seconds)
    return {**where(), "start": start, "end": time.time()}

with SlurmJobExecutor() as exe:
    spans = [f.result() for f in [exe.submit(span, 2) for _ in range(4)]]
print(json.dumps(spans))
""", bridge.env, cpus=4)
    spans = output_of(result)
    assert len({s["step"] for s in spans}) == 4, "each call is a step of its own"
    # --exact: the four one-CPU steps ran at the same time in the 4-CPU allocation.
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans)


def test_block_allocation_reuses_one_step_per_worker(bridge):
    result = in_allocation(PRELUDE + """
def who(executorlib_worker_id=None):
    time.sleep(0.5)  # long enough that both workers get calls
    return {**where(), "worker": executorlib_worker_id}

with SlurmJobExecutor(max_workers=2, block_allocation=True) as exe:
    seen = [f.result() for f in [exe.submit(who) for _ in range(8)]]
print(json.dumps(seen))
""", bridge.env)
    seen = output_of(result)
    steps = {(s["worker"], s["step"], s["pid"]) for s in seen}
    assert {w for w, _, _ in steps} == {0, 1}
    assert len(steps) == 2, f"two warm workers, each one srun step for all its calls: {steps}"


def test_a_call_larger_than_the_allocation_is_refused_at_submit(bridge):
    result = in_allocation(PRELUDE + """
with SlurmJobExecutor() as exe:
    try:
        exe.submit(where, resource_dict={"cores": 6})
    except ValueError as error:
        print(json.dumps(str(error)))
""", bridge.env, cpus=4)
    message = output_of(result)
    assert "6 CPUs per call" in message and "has 4" in message and "SLURM job" in message


def test_outside_an_allocation_the_executor_says_how_to_get_one(bridge):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_JOB")}
    result = subprocess.run(
        [sys.executable, "-c", PRELUDE + """
try:
    SlurmJobExecutor()
except ValueError as error:
    print(json.dumps(str(error)))
"""],
        env={**env, "PYTHONPATH": str(REPO), **bridge.env}, capture_output=True, text=True, timeout=60,
    )
    message = output_of(result)
    assert "SLURM_JOB_ID is not set" in message and "salloc" in message and "SlurmClusterExecutor" in message


def test_a_private_bridge_started_inside_the_allocation_uses_it(tmp_path):
    # No connection file: the kernel starts a bridge of its own, inside the allocation.
    result = in_allocation(PRELUDE + """
with SlurmJobExecutor() as exe:
    print(json.dumps(exe.submit(where).result()))
""", {})
    out = output_of(result)
    assert out["step"] is not None and out["job"] is not None


def test_workers_from_other_nodes_connect_over_tcp_with_curve(tmp_path):
    # One node here: EXECUTORLAB_TRANSPORT=tcp makes the steps connect the way workers on other nodes do.
    saved = dict(os.environ)
    os.environ.update({"EXECUTORLAB_TRANSPORT": "tcp"})
    try:
        bridge = StandaloneBridge(tmp_path, "--worker-host", "0.0.0.0", "--client-timeout", "5")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        worker_file = json.loads((tmp_path / "bridge-worker.json").read_text())
        assert worker_file["worker_endpoint"].startswith(f"tcp://{socket.gethostname()}:"), "advertised by host name"
        result = in_allocation(PRELUDE + """
def endpoint():
    return os.environ["EXECUTORLAB_WORKER_ENDPOINT"]

with SlurmJobExecutor() as exe:
    print(json.dumps(exe.submit(endpoint).result()))
""", bridge.env)
        assert output_of(result) == worker_file["worker_endpoint"]
    finally:
        bridge.stop()


def test_run_time_max_raises_timeout_error_with_the_step_ended(bridge):
    # srun's own --time (whole minutes, counted from before the worker started) is a backstop a minute later:
    # the bridge's limit comes first and says TimeoutError, not a worker that died.
    result = in_allocation(PRELUDE + """
with SlurmJobExecutor() as exe:
    f = exe.submit(time.sleep, 30, resource_dict={"run_time_max": 2})
    try:
        f.result()
    except Exception as error:
        print(json.dumps([type(error).__name__, str(error)]))
""", bridge.env)
    kind, message = output_of(result)
    assert kind == "TimeoutError" and "run_time_max=2" in message
