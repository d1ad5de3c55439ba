"""``python -m executorlab.cache_worker <key>_i.h5``: a cluster job's one call, run in real processes."""

import importlib
import json
import operator
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import OrderedDict, namedtuple
from pathlib import Path

import cloudpickle
import h5py
import numpy as np
import pytest

from executorlab.cache.hdf import dump, get_output, load
from executorlab.tests.conftest import REPO

# The functions below travel by value: the job's Python does not import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

PYTHON = "/usr/bin/python3"
INPUT_DATASETS = {"function", "input_args", "input_kwargs", "resource_dict"}
Pair = namedtuple("Pair", "left right")


def raise_value_error(x):
    raise ValueError("bad value", x)


def return_lock():
    return threading.Lock()


def echo(*args, **kwargs):
    return args, kwargs


def mpi_rank():
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank()


def fail_on_rank_one():
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.Get_rank()
    if rank == 1:
        raise KeyError("rank one")
    return rank


class Doubler:
    def __call__(self, x):
        return 2 * x


def marker(key, *selectors):
    return {"executorlab_dependency": key, "selectors": list(selectors)}


def write_input(path: Path, fn, args=(), kwargs=None, resource_dict=None, **extra) -> Path:
    dump(str(path), {"fn": fn, "args": args, "kwargs": kwargs or {}, "resource_dict": resource_dict or {}, **extra})
    return path


def add_inline_dependency(path: Path, key: str, value) -> None:
    with h5py.File(path, "a") as hdf:
        hdf.create_dataset(
            f"executorlab_dependency_{key}", data=np.frombuffer(cloudpickle.dumps(value), dtype=np.uint8), compression="gzip"
        )


def set_dependency_paths(path: Path, paths: dict) -> None:
    with h5py.File(path, "a") as hdf:
        hdf.attrs["executorlab_dependencies"] = json.dumps({key: str(value) for key, value in paths.items()})


def run_worker(input_file, *pythonpath, mpi_ranks: int = 0, cwd=None) -> subprocess.CompletedProcess:
    command = [PYTHON, "-m", "executorlab.cache_worker", str(input_file)]
    if mpi_ranks:
        command = ["mpiexec", "-n", str(mpi_ranks), "--oversubscribe", *command]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *map(str, pythonpath)])}
    for name in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"):
        env.pop(name, None)
    return subprocess.run(command, env=env, cwd=cwd or input_file.parent, capture_output=True, text=True, timeout=120)


def output_of(input_file: Path) -> Path:
    return input_file.with_name(input_file.name[: -len("_i.h5")] + "_o.h5")


def attributes(path: Path) -> dict:
    with h5py.File(path, "r") as hdf:
        return dict(hdf.attrs)


def datasets(path: Path) -> set:
    with h5py.File(path, "r") as hdf:
        return set(hdf.keys())


def read_dataset(path: Path, name: str):
    with h5py.File(path, "r") as hdf:
        return cloudpickle.loads(hdf[name][()].tobytes())


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]


def test_a_call_runs_and_its_output_replaces_the_input(tmp_path):
    before = time.time()
    input_file = write_input(tmp_path / "add0123_i.h5", operator.add, (1, 2), resource_dict={"cores": 1}, queue_id=4711)
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    output = output_of(input_file)
    assert get_output(str(output)) == (True, True, 3)
    assert not input_file.exists()
    assert no_temporary_files(tmp_path)
    assert datasets(output) == INPUT_DATASETS | {"queue_id", "output", "runtime"}
    assert read_dataset(output, "queue_id") == 4711
    assert read_dataset(output, "resource_dict") == {"cores": 1}
    assert read_dataset(output, "input_args") == (1, 2)
    runtime = read_dataset(output, "runtime")
    assert isinstance(runtime, float) and 0 <= runtime < 10
    attrs = attributes(output)
    assert attrs["executorlab_function"] == "add"
    assert attrs["executorlab_status"] == "done"
    assert attrs["executorlab_result"] == "3"
    assert attrs["executorlab_size"] == len(cloudpickle.dumps(3))
    assert attrs["executorlab_runtime"] == pytest.approx(runtime)
    assert before <= attrs["executorlab_created"] <= time.time()
    assert not {"executorlab_error_type", "executorlab_error_message", "executorlab_traceback"} & set(attrs)
    # executorlib's own reader takes the file as its own.
    assert load(str(output))["fn"] is operator.add


def test_long_result_summary_and_callable_object_name(tmp_path):
    input_file = write_input(tmp_path / "doubler_i.h5", Doubler(), ("x" * 1000,))
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    attrs = attributes(output_of(input_file))
    assert attrs["executorlab_function"] == "Doubler"
    assert len(attrs["executorlab_result"]) <= 200 and attrs["executorlab_result"].startswith("'xxx")
    assert get_output(str(output_of(input_file)))[2] == "x" * 2000


def test_a_raising_function_stores_its_exception_and_exits_0(tmp_path):
    log = tmp_path / "errors.log"
    input_file = write_input(tmp_path / "fails_i.h5", raise_value_error, (7,), error_log_file=str(log))
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    output = output_of(input_file)
    finished, ok, error = get_output(str(output))
    assert (finished, ok) == (True, False)
    assert type(error) is ValueError and error.args == ("bad value", 7)
    assert datasets(output) == INPUT_DATASETS | {"error_log_file", "error", "runtime"}
    attrs = attributes(output)
    assert attrs["executorlab_status"] == "error"
    assert attrs["executorlab_function"] == "raise_value_error"
    assert attrs["executorlab_error_type"] == "ValueError"
    assert attrs["executorlab_error_message"] == str(ValueError("bad value", 7))
    assert "raise_value_error" in attrs["executorlab_traceback"] and "ValueError" in attrs["executorlab_traceback"]
    assert attrs["executorlab_size"] == len(cloudpickle.dumps(error))
    assert "executorlab_result" not in attrs
    assert "Traceback (most recent call last)" in done.stderr and "ValueError: ('bad value', 7)" in done.stderr
    text = log.read_text()
    assert text.startswith("function: <function raise_value_error")
    assert "\nargs: (7,)\nkwargs: {}\n" in text and "ValueError: ('bad value', 7)" in text
    assert not input_file.exists() and no_temporary_files(tmp_path)


def test_a_result_that_cannot_be_pickled_is_an_error(tmp_path):
    input_file = write_input(tmp_path / "lock_i.h5", return_lock)
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    finished, ok, error = get_output(str(output_of(input_file)))
    assert (finished, ok) == (True, False)
    assert isinstance(error, TypeError) and "lock" in str(error)
    assert attributes(output_of(input_file))["executorlab_status"] == "error"
    assert "could not be pickled" in done.stderr


def test_dependency_from_a_dataset_of_the_input(tmp_path):
    input_file = write_input(tmp_path / "inline_i.h5", operator.add, (marker("up1"), 10))
    add_inline_dependency(input_file, "up1", 5)
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    output = output_of(input_file)
    assert get_output(str(output)) == (True, True, 15)
    assert not any(name.startswith("executorlab_dependency") for name in datasets(output))
    # The input datasets keep the markers (the cache key's view of the call).
    assert read_dataset(output, "input_args") == (marker("up1"), 10)


def test_dependency_from_an_output_file_with_selectors(tmp_path):
    upstream = tmp_path / "up2_o.h5"
    dump(str(upstream), {"output": (1, {"a": 5, "b": 6})})
    input_file = write_input(tmp_path / "selected_i.h5", operator.add, (marker("up2", 1, "a"), marker("up2", 0)))
    set_dependency_paths(input_file, {"up2": upstream})
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    output = output_of(input_file)
    assert get_output(str(output)) == (True, True, 6)
    assert "executorlab_dependencies" not in attributes(output)


def test_dependencies_nested_in_containers_and_kwargs(tmp_path):
    upstream = tmp_path / "sub" / "up3_o.h5"
    dump(str(upstream), {"output": [10, 20]})
    input_file = write_input(
        tmp_path / "nested_i.h5",
        echo,
        ([marker("inl"), (marker("up3", 1), 3)], {"k": [marker("inl")]}),
        {"named": OrderedDict(x=marker("up3")), "pair": Pair(marker("inl"), 0), "plain": {1, 2}},
    )
    add_inline_dependency(input_file, "inl", "v")
    set_dependency_paths(input_file, {"up3": "sub/up3_o.h5"})  # relative to the input's folder
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    _, ok, (args, kwargs) = get_output(str(output_of(input_file)))
    assert ok
    assert args == (["v", (20, 3)], {"k": ["v"]})
    assert kwargs == {"named": OrderedDict(x=[10, 20]), "pair": Pair("v", 0), "plain": {1, 2}}
    assert type(kwargs["named"]) is OrderedDict and type(kwargs["pair"]) is Pair


def test_a_selector_that_does_not_fit_fails_the_call(tmp_path):
    input_file = write_input(tmp_path / "badsel_i.h5", echo, (marker("up4", "missing"),))
    add_inline_dependency(input_file, "up4", {"a": 1})
    done = run_worker(input_file)
    assert done.returncode == 0, done.stderr
    finished, ok, error = get_output(str(output_of(input_file)))
    assert (finished, ok) == (True, False) and isinstance(error, KeyError)


def test_a_missing_dependency_file_exits_2_and_keeps_the_input(tmp_path):
    missing = tmp_path / "gone_o.h5"
    input_file = write_input(tmp_path / "orphan_i.h5", echo, (marker("gone"),))
    set_dependency_paths(input_file, {"gone": missing})
    done = run_worker(input_file)
    assert done.returncode == 2
    assert "gone" in done.stderr and str(missing) in done.stderr and "does not exist" in done.stderr
    assert input_file.exists() and not output_of(input_file).exists()
    assert no_temporary_files(tmp_path)


def test_a_dependency_without_any_source_or_holding_an_error_exits_2(tmp_path):
    input_file = write_input(tmp_path / "nosource_i.h5", echo, (marker("nowhere"),))
    done = run_worker(input_file)
    assert done.returncode == 2 and "nowhere" in done.stderr

    failed = tmp_path / "failed_o.h5"
    dump(str(failed), {"error": ZeroDivisionError("division by zero")})
    input_file = write_input(tmp_path / "afterfail_i.h5", echo, (marker("failed"),))
    set_dependency_paths(input_file, {"failed": failed})
    done = run_worker(input_file)
    assert done.returncode == 2
    assert "failed" in done.stderr and str(failed) in done.stderr and "ZeroDivisionError" in done.stderr
    assert not output_of(input_file).exists()


def test_unusable_input_files_exit_2(tmp_path):
    done = run_worker(tmp_path / "absent_i.h5")
    assert done.returncode == 2 and "absent_i.h5" in done.stderr and "does not exist" in done.stderr

    not_hdf5 = tmp_path / "text_i.h5"
    not_hdf5.write_text("not HDF5")
    done = run_worker(not_hdf5)
    assert done.returncode == 2 and "cannot read input file" in done.stderr

    no_function = tmp_path / "nofn_i.h5"
    dump(str(no_function), {"args": (1,)})
    done = run_worker(no_function)
    assert done.returncode == 2 and "no 'function' dataset" in done.stderr

    wrong_name = write_input(tmp_path / "call.h5", operator.add, (1, 2))
    done = run_worker(wrong_name)
    assert done.returncode == 2 and "_i.h5" in done.stderr

    # No file given: argparse's message.
    done = subprocess.run([PYTHON, "-m", "executorlab.cache_worker"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert done.returncode == 2 and "input_file" in done.stderr
    assert not list(tmp_path.glob("*_o.h5")) and no_temporary_files(tmp_path)


def test_functions_come_from_the_jobs_pythonpath(tmp_path):
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "cw_job_functions.py").write_text("def triple(x):\n    return 3 * x\n")
    sys.path.insert(0, str(modules))
    try:
        module = importlib.import_module("cw_job_functions")
        first = write_input(tmp_path / "triple_i.h5", module.triple, (4,))
        second = write_input(tmp_path / "triple2_i.h5", module.triple, (5,))
    finally:
        sys.path.remove(str(modules))
        sys.modules.pop("cw_job_functions", None)
    done = run_worker(first, modules)
    assert done.returncode == 0, done.stderr
    assert get_output(str(output_of(first))) == (True, True, 12)
    # Without the module on the job's path the function cannot be loaded: that is the call's error.
    done = run_worker(second)
    assert done.returncode == 0, done.stderr
    finished, ok, error = get_output(str(output_of(second)))
    assert (finished, ok) == (True, False) and isinstance(error, ModuleNotFoundError)
    attrs = attributes(output_of(second))
    assert attrs["executorlab_function"] == "triple2" and attrs["executorlab_error_type"] == "ModuleNotFoundError"


mpi = pytest.mark.skipif(shutil.which("mpiexec") is None, reason="needs mpiexec")


@mpi
def test_mpi_ranks_all_run_and_rank_0_gathers(tmp_path):
    input_file = write_input(tmp_path / "ranks_i.h5", mpi_rank, resource_dict={"cores": 2})
    done = run_worker(input_file, mpi_ranks=2)
    assert done.returncode == 0, done.stderr
    assert get_output(str(output_of(input_file))) == (True, True, [0, 1])
    assert attributes(output_of(input_file))["executorlab_result"] == "[0, 1]"
    assert not input_file.exists() and no_temporary_files(tmp_path)


@mpi
def test_mpi_a_failing_rank_fails_the_call(tmp_path):
    input_file = write_input(tmp_path / "rankfail_i.h5", fail_on_rank_one)
    done = run_worker(input_file, mpi_ranks=2)
    assert done.returncode == 0, done.stderr
    finished, ok, error = get_output(str(output_of(input_file)))
    assert (finished, ok) == (True, False) and isinstance(error, KeyError) and error.args == ("rank one",)


@mpi
def test_mpi_a_missing_input_stops_every_rank(tmp_path):
    done = run_worker(tmp_path / "absent_i.h5", mpi_ranks=2)
    assert done.returncode != 0 and "does not exist" in done.stderr
