"""resource_dict against the real bridge and workers: refused at submit() naming the key, or honoured."""

import os
import shutil
import time
from pathlib import Path

import pytest

from executorlab import ExecutorlabWorkerError, SingleNodeExecutor
from executorlab.client.bridge_process import pid_alive
from executorlab.tests.conftest import wait_for

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_variables():
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}


def working_directory():
    return os.getcwd()


def write_pid_and_sleep(folder, seconds):
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    Path(folder, f"{rank}.pid").write_text(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def report_rank(x):
    from mpi4py import MPI

    return x, MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()


CLUSTER_ONLY = "is only honoured by the SLURM/flux executors"


@pytest.mark.parametrize(
    "resource_dict, message",
    [
        ({"colour": "red"}, "resource_dict: unknown key 'colour'; allowed keys: cores, threads_per_core, gpus_per_core, cwd"),
        ({"restart_limit": 1}, "unknown key 'restart_limit'"),
        ({"cores": "2"}, "resource_dict['cores'] must be an integer ≥ 1 or None, got '2' (a string)"),
        ({"cores": 0}, "resource_dict['cores'] must be an integer ≥ 1 or None, got 0"),
        ({"threads_per_core": 1.5}, "resource_dict['threads_per_core'] must be an integer ≥ 1 or None, got 1.5"),
        ({"priority": 99}, "resource_dict['priority'] must be an integer from 0 to 31 or None, got 99"),
        ({"slurm_cmd_args": "--exact"}, "resource_dict['slurm_cmd_args'] must be a list of strings"),
        ({"num_nodes": 2}, f"resource_dict['num_nodes']=2 {CLUSTER_ONLY}"),
        ({"exclusive": True}, f"resource_dict['exclusive']=True {CLUSTER_ONLY}"),
        ({"slurm_cmd_args": ["--exact"]}, f"resource_dict['slurm_cmd_args']=['--exact'] {CLUSTER_ONLY}"),
        ({"priority": 5}, f"resource_dict['priority']=5 {CLUSTER_ONLY}"),
        ({"submission_template": "#!/bin/bash"}, f"resource_dict['submission_template'] {CLUSTER_ONLY}"),
    ],
)
def test_bad_resource_dict_raises_at_submit_naming_the_key(resource_dict, message):
    with SingleNodeExecutor() as exe:
        with pytest.raises(ValueError) as info:
            exe.submit(sum, [1], resource_dict=resource_dict)
        assert message in str(info.value)
        assert exe.submit(sum, [1, 2]).result(timeout=60) == 3


def test_missing_cwd_is_refused_at_submit(tmp_path):
    missing = tmp_path / "missing"
    with SingleNodeExecutor() as exe:
        with pytest.raises(ValueError, match=r"resource_dict\['cwd'\]='.*/missing' does not exist"):
            exe.submit(working_directory, resource_dict={"cwd": str(missing)})


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine may have GPUs")
def test_gpus_on_a_machine_without_gpus_are_refused():
    with SingleNodeExecutor() as exe:
        with pytest.raises(ValueError) as info:
            exe.submit(sum, [1], resource_dict={"gpus_per_core": 1})
    assert "resource_dict['gpus_per_core']=1 asks for 1 GPU per call" in str(info.value)
    assert "this machine has 0 (nvidia-smi is not on PATH)" in str(info.value)


def test_values_that_are_not_json_raise_type_error():
    with SingleNodeExecutor() as exe:
        with pytest.raises(TypeError, match="resource_dict"):
            exe.submit(sum, [1], resource_dict={"cwd": Path("/tmp")})


def test_bad_executor_level_resource_dict_is_refused_at_construction(tmp_path):
    with pytest.raises(ValueError, match=rf"resource_dict\['num_nodes'\]=4 {CLUSTER_ONLY}"):
        SingleNodeExecutor(resource_dict={"num_nodes": 4})
    with pytest.raises(ValueError, match="does not exist"):
        SingleNodeExecutor(resource_dict={"cwd": str(tmp_path / "nowhere")})


def test_threads_per_core_sets_the_thread_pools_of_the_worker():
    with SingleNodeExecutor() as exe:
        assert exe.submit(thread_variables, resource_dict={"threads_per_core": 3}).result(timeout=60) == dict.fromkeys(
            THREAD_VARIABLES, "3"
        )
        # Not asked for: whatever the environment had, as with executorlib.
        assert exe.submit(thread_variables).result(timeout=60) == {n: os.environ.get(n) for n in THREAD_VARIABLES}
    with SingleNodeExecutor(resource_dict={"threads_per_core": 2}) as exe:
        assert exe.submit(thread_variables).result(timeout=60)["OMP_NUM_THREADS"] == "2"


def test_cwd_is_the_working_directory_of_the_call(tmp_path):
    with SingleNodeExecutor() as exe:
        assert exe.submit(working_directory, resource_dict={"cwd": str(tmp_path)}).result(timeout=60) == str(tmp_path)
    with SingleNodeExecutor(resource_dict={"cwd": str(tmp_path)}) as exe:
        assert exe.submit(working_directory).result(timeout=60) == str(tmp_path)


def test_run_time_max_kills_the_call_and_raises_timeout_error(tmp_path):
    with SingleNodeExecutor() as exe:
        started = time.monotonic()
        future = exe.submit(write_pid_and_sleep, str(tmp_path), 30, resource_dict={"run_time_max": 1})
        error = future.exception(timeout=30)
        elapsed = time.monotonic() - started
        assert type(error) is TimeoutError
        assert str(error) == "write_pid_and_sleep ran longer than run_time_max=1 s and was killed"
        assert 1 <= elapsed < 10, elapsed
        assert not pid_alive(int((tmp_path / "0.pid").read_text()))
        assert exe.submit(sum, [1, 1]).result(timeout=60) == 2


def test_run_time_max_of_an_mpi_call_ends_every_rank(tmp_path):
    with SingleNodeExecutor(openmpi_oversubscribe=True) as exe:
        future = exe.submit(write_pid_and_sleep, str(tmp_path), 30, resource_dict={"cores": 2, "run_time_max": 2})
        assert type(future.exception(timeout=60)) is TimeoutError
    pids = [int((tmp_path / f"{rank}.pid").read_text()) for rank in (0, 1)]
    wait_for(lambda: not any(pid_alive(pid) for pid in pids), 15, "both MPI ranks to end")


def test_cores_with_openmpi_oversubscribe_runs_every_rank():
    with SingleNodeExecutor(openmpi_oversubscribe=True) as exe:
        assert exe.submit(report_rank, 7, resource_dict={"cores": 2}).result(timeout=120) == [(7, 0, 2), (7, 1, 2)]


@pytest.mark.skipif((os.cpu_count() or 1) > 7, reason="would start more than 8 MPI ranks")
def test_openmpi_oversubscribe_of_a_call_overrides_the_executor():
    ranks = (os.cpu_count() or 1) + 1
    with SingleNodeExecutor(openmpi_oversubscribe=False) as exe:
        result = exe.submit(report_rank, 1, resource_dict={"cores": ranks, "openmpi_oversubscribe": True}).result(timeout=120)
        assert [rank for _, rank, _ in result] == list(range(ranks))
        refused = exe.submit(report_rank, 1, resource_dict={"cores": ranks}).exception(timeout=120)
        assert isinstance(refused, ExecutorlabWorkerError) and "slots" in str(refused)
