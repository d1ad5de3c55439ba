"""block_allocation=True against the real bridge: warm workers, init_function, restarts, live resize."""

import os
import signal
import time
from pathlib import Path

import pytest

from executorlab import ExecutorlabWorkerError, SingleNodeExecutor
from executorlab.client.bridge_process import pid_alive
from executorlab.tests.conftest import wait_for


def worker_pids(exe) -> list:
    """Worker processes of the bridge behind `exe` that belong to a block allocation (they get --worker-index)."""
    bridge = int(exe._client.info["pid"])
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:  # ended while we looked
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == bridge and b"executorlab.worker" in command and b"--worker-index" in command:
            pids.append(int(entry))
    return sorted(pids)


def add(a, b):
    return a + b


def pid():
    return os.getpid()


def init_function():
    return {"j": 4, "k": 3, "l": 2}


def calc_with_preload(i, j, k):
    return i + j + k


def worker_id(executorlib_worker_id):
    return executorlib_worker_id


def meet(folder, count, executorlib_worker_id):
    """Return only once `count` calls run at the same time: so they must be on different workers."""
    Path(folder, str(executorlib_worker_id)).touch()
    deadline = time.monotonic() + 30
    while len(os.listdir(folder)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the other calls never ran alongside")
        time.sleep(0.01)
    return executorlib_worker_id, os.getpid()


def failing_init():
    raise RuntimeError("licence server unreachable")


def list_init():
    return [1, 2]


def rank_init():
    from mpi4py import MPI

    return {"rank_at_init": MPI.COMM_WORLD.Get_rank()}


def ranks(i, rank_at_init):
    from mpi4py import MPI

    assert rank_at_init == MPI.COMM_WORLD.Get_rank()
    return i, MPI.COMM_WORLD.Get_size(), MPI.COMM_WORLD.Get_rank()


def write_pid_and_sleep(path, seconds):
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def test_two_workers_give_results_and_are_reused():
    with SingleNodeExecutor(max_workers=2, block_allocation=True) as exe:
        assert list(exe.map(add, range(20), range(20))) == [2 * i for i in range(20)]
        workers = set(worker_pids(exe))
        assert len(workers) == 2
        seen = {exe.submit(pid).result(timeout=60) for _ in range(10)}
        assert seen <= workers, "every call ran in one of the two warm workers"
        assert set(worker_pids(exe)) == workers, "no worker was started for a call"


def test_init_function_memory_fills_parameters_the_call_did_not_pass():
    with SingleNodeExecutor(max_workers=2, init_function=init_function, block_allocation=True) as exe:
        assert exe.submit(calc_with_preload, 2, j=5).result(timeout=60) == 10
        assert exe.submit(calc_with_preload, 2).result(timeout=60) == 9
        assert exe.submit(calc_with_preload, 1, 1, 1).result(timeout=60) == 3


def test_executorlib_worker_id_is_the_place_in_the_pool(tmp_path):
    with SingleNodeExecutor(max_workers=2, block_allocation=True) as exe:
        both = [exe.submit(meet, str(tmp_path), 2) for _ in range(2)]
        results = sorted(f.result(timeout=60) for f in both)
    assert [index for index, _ in results] == [0, 1]
    assert results[0][1] != results[1][1]
    with SingleNodeExecutor() as exe:
        assert exe.submit(worker_id).result(timeout=60) == 0


def test_init_function_that_raises_fails_every_call_with_its_exception():
    with SingleNodeExecutor(max_workers=1, init_function=failing_init, block_allocation=True) as exe:
        for _ in range(2):
            error = exe.submit(add, 1, 2).exception(timeout=60)
            assert type(error) is RuntimeError and str(error) == "licence server unreachable"
            assert "in failing_init" in error.__cause__.tb


def test_init_function_must_return_a_dict():
    with SingleNodeExecutor(max_workers=1, init_function=list_init, block_allocation=True) as exe:
        error = exe.submit(add, 1, 2).exception(timeout=60)
    assert type(error) is TypeError and "init_function must return a dict" in str(error) and "list" in str(error)


def test_mpi_workers_run_init_and_calls_on_every_rank():
    with SingleNodeExecutor(
        max_workers=1, resource_dict={"cores": 2}, init_function=rank_init, block_allocation=True, openmpi_oversubscribe=True
    ) as exe:
        assert exe.submit(ranks, 1).result(timeout=120) == [(1, 2, 0), (1, 2, 1)]
        assert list(exe.map(ranks, [2, 3])) == [[(2, 2, 0), (2, 2, 1)], [(3, 2, 0), (3, 2, 1)]]


def test_a_per_call_resource_dict_is_refused():
    with SingleNodeExecutor(max_workers=1, block_allocation=True) as exe:
        with pytest.raises(ValueError, match="have to be defined on the executor level"):
            exe.submit(add, 1, 2, resource_dict={"cores": 1})


def test_max_workers_defaults_to_max_cores_per_worker_or_the_cpu_count():
    with SingleNodeExecutor(max_cores=4, resource_dict={"cores": 2}, block_allocation=True, openmpi_oversubscribe=True) as exe:
        assert exe.max_workers == 2
    with pytest.warns(UserWarning, match="max_workers parameter is not set, set default based on CPU count"):
        exe = SingleNodeExecutor(block_allocation=True)
    with exe:
        assert exe.max_workers == os.cpu_count()


def test_live_resize_up_and_down():
    with SingleNodeExecutor(max_workers=2, block_allocation=True) as exe:
        wait_for(lambda: len(worker_pids(exe)) == 2, 30, "two workers")
        exe.max_workers = 3
        assert exe.max_workers == 3
        wait_for(lambda: len(worker_pids(exe)) == 3, 30, "a third worker")
        assert list(exe.map(add, range(12), range(12))) == [2 * i for i in range(12)]
        exe.max_workers = 1
        wait_for(lambda: len(worker_pids(exe)) == 1, 30, "two workers to stop")
        (last,) = worker_pids(exe)
        assert {exe.submit(pid).result(timeout=60) for _ in range(5)} == {last}


def test_max_workers_cannot_change_without_block_allocation():
    with SingleNodeExecutor(max_workers=1) as exe:
        with pytest.raises(NotImplementedError, match="block_allocation=True"):
            exe.max_workers = 2


def kill_mid_call(exe, folder: Path, name: str):
    """Start a long call, SIGKILL its worker process, return the call's exception and how long it took."""
    path = folder / name
    future = exe.submit(write_pid_and_sleep, str(path), 60)
    victim = int(wait_for(lambda: path.exists() and path.read_text(), 30, "the call to start"))
    os.kill(victim, signal.SIGKILL)
    started = time.monotonic()
    error = future.exception(timeout=30)
    return victim, error, time.monotonic() - started


def test_worker_killed_mid_call_without_restart_limit(tmp_path):
    with SingleNodeExecutor(max_workers=2, block_allocation=True) as exe:
        wait_for(lambda: len(worker_pids(exe)) == 2, 30, "two workers")
        victim, error, waited = kill_mid_call(exe, tmp_path, "first")
        assert waited < 5
        assert isinstance(error, ExecutorlabWorkerError) and "killed by SIGKILL while running write_pid_and_sleep" in str(error)
        # restart_limit=0: the pool goes on with the other worker.
        assert victim not in worker_pids(exe) and len(worker_pids(exe)) == 1
        assert exe.submit(add, 1, 2).result(timeout=60) == 3
        _, error, _ = kill_mid_call(exe, tmp_path, "second")
        assert isinstance(error, ExecutorlabWorkerError)
        assert worker_pids(exe) == []
        error = exe.submit(add, 1, 2).exception(timeout=30)
        assert isinstance(error, ExecutorlabWorkerError)
        assert "no worker is left in the block allocation" in str(error) and "restart_limit=0" in str(error)


def test_worker_killed_mid_call_is_restarted_within_restart_limit(tmp_path):
    with SingleNodeExecutor(max_workers=1, block_allocation=True, restart_limit=1, init_function=init_function) as exe:
        first, error, _ = kill_mid_call(exe, tmp_path, "first")
        assert isinstance(error, ExecutorlabWorkerError) and "SIGKILL" in str(error)
        # Restarted, with the init_function run again.
        assert exe.submit(calc_with_preload, 2, j=5).result(timeout=60) == 10
        (second,) = worker_pids(exe)
        assert second != first
        _, error, _ = kill_mid_call(exe, tmp_path, "second")
        assert isinstance(error, ExecutorlabWorkerError) and "SIGKILL" in str(error)
        error = exe.submit(add, 1, 2).exception(timeout=30)
        assert isinstance(error, ExecutorlabWorkerError) and "restart_limit=1" in str(error)


def test_shutdown_stops_every_worker():
    with SingleNodeExecutor(max_workers=3, block_allocation=True) as exe:
        assert exe.submit(add, 1, 2).result(timeout=60) == 3
        workers = wait_for(lambda: len(worker_pids(exe)) == 3 and worker_pids(exe), 30, "three workers")
    assert worker_pids(exe) == []
    assert not any(pid_alive(p) for p in workers)


def test_mpi_worker_shutdown_leaves_no_rank_behind():
    with SingleNodeExecutor(max_workers=1, resource_dict={"cores": 2}, block_allocation=True, openmpi_oversubscribe=True) as exe:
        ranks_pids = exe.submit(pid).result(timeout=120)
    assert not any(pid_alive(p) for p in ranks_pids)
