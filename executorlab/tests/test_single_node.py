"""SingleNodeExecutor against a private bridge (no Jupyter): real bridge, ZeroMQ and worker processes."""

import os
import subprocess

import pytest

from executorlab import ExecutorlabWorkerError, RemoteTraceback, SingleNodeExecutor


def raise_key_error(key):
    mapping = {"a": 1}
    return mapping[key]


def exit_hard():
    os._exit(3)


def report_rank(x):
    from mpi4py import MPI

    return x, MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()


def takes_resource_dict(resource_dict):
    return resource_dict


def test_submit_sum_returns_result():
    with SingleNodeExecutor() as exe:
        future = exe.submit(sum, [1, 1])
        assert future.result(timeout=60) == 2
    assert future.done() and not future.cancelled()


def test_plain_script_starts_private_bridge_and_leaves_none_behind(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "from executorlab import SingleNodeExecutor\n"
        "import executorlab.client.bridge_process as bp\n"
        "with SingleNodeExecutor() as exe:\n"
        "    print(exe.submit(sum, [1, 1]).result())\n"
        "print(bp._private.process.pid)\n"
    )
    from executorlab.tests.conftest import REPO

    done = subprocess.run(
        ["/usr/bin/python3", str(script)], env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result, bridge_pid = done.stdout.split()
    assert result == "2"
    with pytest.raises(ProcessLookupError):
        os.kill(int(bridge_pid), 0)


def test_exception_type_and_remote_traceback_reach_the_future():
    with SingleNodeExecutor() as exe:
        error = exe.submit(raise_key_error, "missing").exception(timeout=60)
    assert type(error) is KeyError
    assert error.args == ("missing",)
    assert isinstance(error.__cause__, RemoteTraceback)
    assert "in raise_key_error" in error.__cause__.tb
    assert "return mapping[key]" in error.__cause__.tb
    with pytest.raises(KeyError):
        raise error


def test_dead_worker_fails_the_future_instead_of_hanging():
    with SingleNodeExecutor() as exe:
        error = exe.submit(exit_hard).exception(timeout=60)
        assert isinstance(error, ExecutorlabWorkerError)
        assert "exited with code 3" in str(error)
        assert exe.submit(sum, [2, 3]).result(timeout=60) == 5


def test_mpi_function_returns_every_rank():
    with SingleNodeExecutor() as exe:
        result = exe.submit(report_rank, 7, resource_dict={"cores": 2}).result(timeout=120)
    assert result == [(7, 0, 2), (7, 1, 2)]


def test_stdout_of_the_function_reaches_the_caller(capfd):
    with SingleNodeExecutor() as exe:
        exe.submit(print, "hello from the worker").result(timeout=60)
    assert "hello from the worker" in capfd.readouterr().out


@pytest.mark.parametrize(
    "resource_dict, complaint",
    [
        ({"cores": 1, "colour": "red"}, "unknown key 'colour'; allowed keys: cores, threads_per_core"),
        ({"cores": "two"}, "resource_dict['cores'] must be an integer ≥ 1 or None, got 'two'"),
        ({"cores": 0}, "resource_dict['cores'] must be an integer ≥ 1 or None, got 0"),
    ],
)
def test_bad_resource_dict_fails_at_submit(resource_dict, complaint):
    with SingleNodeExecutor() as exe:
        with pytest.raises(ValueError) as info:
            exe.submit(sum, [1], resource_dict=resource_dict)
    assert complaint in str(info.value)


def test_bad_executor_resource_dict_fails_at_construction():
    with pytest.raises(ValueError, match="threads_per_core"):
        SingleNodeExecutor(resource_dict={"threads_per_core": -1})


def test_function_with_resource_dict_parameter_is_refused():
    with SingleNodeExecutor() as exe:
        with pytest.raises(ValueError, match="resource_dict"):
            exe.submit(takes_resource_dict, {})


def test_submit_after_shutdown_raises():
    exe = SingleNodeExecutor()
    exe.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        exe.submit(sum, [1])


def test_task_larger_than_max_cores_is_refused():
    with SingleNodeExecutor(max_cores=1) as exe:
        error = exe.submit(sum, [1], resource_dict={"cores": 2}).exception(timeout=60)
    assert isinstance(error, ValueError) and "max_cores=1" in str(error)
