"""executorlib-format HDF5 cache files: real files on disk, read and written both by us and the way
executorlib does it with plain h5py + cloudpickle; terminate functions with recorded and real commands."""

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import h5py
import numpy as np
import pytest

from executorlab.cache import hdf, terminate
from executorlab.cache.hdf import (
    dump,
    get_cache_data,
    get_cache_files,
    get_future_from_cache,
    get_output,
    get_queue_id,
    get_runtime,
    load,
)
from executorlab.cache.terminate import terminate_task_in_cache, terminate_tasks_in_cache

REPO = Path(__file__).resolve().parents[2]

DATASETS = [
    "function", "input_args", "input_kwargs", "output", "error",
    "resource_dict", "runtime", "queue_id", "error_log_file",
]


def my_funct(a, b):
    return a + b


def executorlib_write(file_name, datasets: dict) -> None:
    """What executorlib's dump writes: one gzip uint8 dataset of the pickle per value."""
    with h5py.File(file_name, "a") as f:
        for name, value in datasets.items():
            f.create_dataset(name, data=np.frombuffer(cloudpickle.dumps(value), dtype=np.uint8), compression="gzip")


def executorlib_read(file_name) -> dict:
    """What executorlib's readers do: ``cloudpickle.loads(hdf["/name"][()].tobytes())`` per known dataset."""
    with h5py.File(file_name, "r") as f:
        return {name: cloudpickle.loads(f["/" + name][()].tobytes()) for name in DATASETS if name in f}


def full_data_dict():
    return {
        "fn": my_funct, "args": (1,), "kwargs": {"b": 2}, "output": 3, "error": ValueError("boom"),
        "resource_dict": {"cores": 1}, "runtime": 0.25, "queue_id": 42, "error_log_file": "error.out",
    }


def listing(directory) -> list:
    return sorted(os.listdir(directory))


# --- format -----------------------------------------------------------------------------------------------


def test_dump_writes_what_executorlib_reads(tmp_path):
    file_name = tmp_path / "key_o.h5"
    dump(str(file_name), {**full_data_dict(), "not_a_dataset": 1})
    with h5py.File(file_name, "r") as f:
        assert sorted(f.keys()) == sorted(DATASETS)
        for name in DATASETS:
            assert f[name].dtype == np.uint8 and f[name].ndim == 1, name
            assert f[name].compression == "gzip", name
    data = executorlib_read(file_name)
    assert data["function"] is my_funct
    assert data["input_args"] == (1,) and data["input_kwargs"] == {"b": 2}
    assert data["output"] == 3 and isinstance(data["error"], ValueError) and str(data["error"]) == "boom"
    assert data["resource_dict"] == {"cores": 1} and data["runtime"] == 0.25
    assert data["queue_id"] == 42 and data["error_log_file"] == "error.out"
    assert listing(tmp_path) == ["key_o.h5"]


def test_reads_file_written_the_executorlib_way(tmp_path):
    file_name = tmp_path / "key_i.h5"
    executorlib_write(file_name, {
        "function": my_funct, "input_args": [1], "input_kwargs": {"b": 2}, "resource_dict": {"cores": 2},
        "queue_id": 7, "error_log_file": "err.out",
    })
    with h5py.File(file_name, "a") as f:  # our own attributes: readers must not trip over them
        f.attrs["executorlab_function"] = "my_funct"
        f.attrs["executorlab_status"] = "running"
    assert load(str(file_name)) == {
        "fn": my_funct, "args": [1], "kwargs": {"b": 2}, "resource_dict": {"cores": 2}, "error_log_file": "err.out",
    }
    assert get_output(str(file_name)) == (False, False, None)
    assert get_runtime(str(file_name)) == 0.0
    assert get_queue_id(str(file_name)) == 7
    executorlib_write(file_name, {"output": 3, "runtime": 1.5})
    assert get_output(str(file_name)) == (True, True, 3)
    assert get_runtime(str(file_name)) == 1.5


def test_reads_legacy_np_void_datasets(tmp_path):
    file_name = tmp_path / "old_o.h5"
    with h5py.File(file_name, "w") as f:  # executorlib before the switch to np.frombuffer
        for name, value in [("function", my_funct), ("input_args", (1, 2)), ("output", 3), ("runtime", 0.5),
                            ("queue_id", 9)]:
            f.create_dataset(name, data=np.void(cloudpickle.dumps(value)))
    with h5py.File(file_name, "r") as f:
        assert f["output"].shape == () and f["output"].dtype.kind == "V"  # really the legacy layout
    assert load(str(file_name))["args"] == (1, 2)
    assert get_output(str(file_name)) == (True, True, 3)
    assert get_runtime(str(file_name)) == 0.5
    assert get_queue_id(str(file_name)) == 9
    assert get_cache_data(str(tmp_path)) == [{
        "function": my_funct, "input_args": (1, 2), "output": 3, "runtime": 0.5, "queue_id": 9,
        "filename": str(file_name),
    }]
    assert get_future_from_cache(str(tmp_path), "old").result() == 3


def test_load_defaults_and_missing_function(tmp_path):
    file_name = str(tmp_path / "a_i.h5")
    dump(file_name, {"fn": my_funct})
    assert load(file_name) == {"fn": my_funct, "args": (), "kwargs": {}, "resource_dict": {}}
    other = str(tmp_path / "b_i.h5")
    dump(other, {"queue_id": 1})
    with pytest.raises(TypeError, match="Function not found"):
        load(other)


def test_dump_keeps_existing_datasets_and_none_is_a_no_op(tmp_path, monkeypatch):
    file_name = str(tmp_path / "sub" / "k_o.h5")
    dump(file_name, {"output": 1})
    dump(file_name, {"output": 2, "runtime": 3.0})
    assert get_output(file_name) == (True, True, 1)
    assert get_runtime(file_name) == 3.0
    monkeypatch.chdir(tmp_path)
    dump(None, {"output": 1})
    assert listing(tmp_path) == ["sub"]


def test_get_output_prefers_output_then_error(tmp_path):
    both, error_only = str(tmp_path / "both_o.h5"), str(tmp_path / "err_o.h5")
    dump(both, {"error": KeyError("x"), "output": 5})
    dump(error_only, {"error": KeyError("x")})
    assert get_output(both) == (True, True, 5)
    done, ok, value = get_output(error_only)
    assert (done, ok, type(value)) == (True, False, KeyError)


def test_get_output_retries_a_missing_file(tmp_path):
    file_name = str(tmp_path / "late_o.h5")
    start = time.monotonic()
    with pytest.raises(FileNotFoundError, match="late_o.h5"):
        get_output(file_name)
    assert time.monotonic() - start >= 0.9  # 10 x 0.1 s, as executorlib
    writer = threading.Timer(0.3, dump, args=(file_name, {"output": "there"}))
    writer.start()
    try:
        assert get_output(file_name) == (True, True, "there")
    finally:
        writer.join()


def test_get_queue_id_of_missing_file_and_no_file_name(tmp_path):
    assert get_queue_id(str(tmp_path / "nothing_i.h5")) is None
    assert get_queue_id(None) is None


# --- cache directory --------------------------------------------------------------------------------------


def test_get_cache_data_for_o_and_i_files_in_nested_folders(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    dump(str(cache / "done_o.h5"), {"fn": my_funct, "args": (1,), "kwargs": {"b": 2}, "output": 3, "runtime": 0.1})
    executorlib_write_dir = cache / "nested" / "deeper"
    executorlib_write_dir.mkdir(parents=True)
    executorlib_write(executorlib_write_dir / "queued_i.h5", {"function": my_funct, "input_args": (), "queue_id": 5})
    with h5py.File(executorlib_write_dir / "queued_i.h5", "a") as f:
        f.attrs["executorlab_status"] = "queued"
    # Not cache files: a task being finished, another HDF5 file, and a leftover temporary file of ours.
    for name in ["running_r.h5", "other.h5", ".x_o.h5.0123abcd.tmp", "notes.txt"]:
        dump(str(cache / "nested" / name), {"output": 1})
    monkeypatch.chdir(tmp_path)  # a relative cache directory still gives absolute file names
    files = sorted(get_cache_files("cache"))
    assert files == [str(cache / "done_o.h5"), str(executorlib_write_dir / "queued_i.h5")]
    data = sorted(get_cache_data("cache"), key=lambda d: d["filename"])
    assert data == [
        {"function": my_funct, "input_args": (1,), "input_kwargs": {"b": 2}, "output": 3, "runtime": 0.1,
         "filename": str(cache / "done_o.h5")},
        {"function": my_funct, "input_args": (), "queue_id": 5, "filename": str(executorlib_write_dir / "queued_i.h5")},
    ]
    assert get_cache_data(str(tmp_path / "empty")) == []


def test_get_future_from_cache(tmp_path):
    cache = str(tmp_path)
    dump(os.path.join(cache, "ok_o.h5"), {"fn": my_funct, "output": 3})
    dump(os.path.join(cache, "bad_o.h5"), {"fn": my_funct, "error": ZeroDivisionError("nope")})
    dump(os.path.join(cache, "queued_i.h5"), {"fn": my_funct, "args": (1, 2), "queue_id": 4})
    dump(os.path.join(cache, "both_i.h5"), {"fn": my_funct, "output": "from input"})
    dump(os.path.join(cache, "both_o.h5"), {"fn": my_funct, "output": "from output"})
    future = get_future_from_cache(cache, "ok")
    assert future.done() and future.result() == 3
    with pytest.raises(ZeroDivisionError, match="nope"):
        get_future_from_cache(cache, "bad")
    pending = get_future_from_cache(cache, "queued")
    assert not pending.done()
    assert get_future_from_cache(cache, "both").result() == "from output"
    with pytest.raises(FileNotFoundError) as info:
        get_future_from_cache(cache, "missing")
    assert "cache key missing" in str(info.value) and f"cache directory {cache}" in str(info.value)


# --- atomic and concurrent writes -------------------------------------------------------------------------


def test_dump_failing_midway_leaves_nothing(tmp_path, monkeypatch):
    real = hdf._create_dataset
    calls = []

    def fail_on_second(h5, name, value):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        real(h5, name, value)

    monkeypatch.setattr(hdf, "_create_dataset", fail_on_second)
    with pytest.raises(OSError, match="simulated"):
        dump(str(tmp_path / "k_o.h5"), {"fn": my_funct, "output": 3, "runtime": 1.0})
    assert calls == ["function", "output"]  # it really failed midway, after a dataset was written
    assert listing(tmp_path) == []


CRASH_SCRIPT = """
import os, sys
from executorlab.cache import hdf
real = hdf._create_dataset
calls = []
def crash_on_second(h5, name, value):
    calls.append(name)
    if len(calls) == 2:
        h5.flush()
        os._exit(3)  # a crash: no exception handler, no cleanup
    real(h5, name, value)
hdf._create_dataset = crash_on_second
hdf.dump(sys.argv[1], {"fn": len, "output": 3, "runtime": 1.0})
"""


def test_dump_crashing_process_leaves_no_file_under_the_final_name(tmp_path):
    file_name = tmp_path / "k_o.h5"
    process = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(file_name)],
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=60,
    )
    assert process.returncode == 3, process.stderr
    names = listing(tmp_path)
    assert "k_o.h5" not in names
    assert len(names) == 1 and names[0].startswith(".k_o.h5.") and names[0].endswith(".tmp")  # the half file
    assert get_cache_files(str(tmp_path)) == [] and get_cache_data(str(tmp_path)) == []
    with pytest.raises(FileNotFoundError):
        get_future_from_cache(str(tmp_path), "k")


WRITER_SCRIPT = """
import os, sys, time
from executorlab.cache.hdf import dump
cache, writer, go = sys.argv[1], sys.argv[2], sys.argv[3]
payload = os.urandom(2_000_000)  # large enough that the two writes overlap
open(go + "." + writer, "w").close()  # ready: imports done
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(8):
    dump(os.path.join(cache, f"key{i}_o.h5"), {"fn": len, "output": (writer, payload), "runtime": writer})
"""


def test_two_processes_writing_the_same_new_keys_leave_valid_files(tmp_path):
    cache, go = tmp_path / "cache", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(cache), name, str(go)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("A", "B")
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{go}.{name}").exists() for name in ("A", "B")):  # both ready, polling for the start
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers), "a writer did not start"
        time.sleep(0.01)
    go.touch()
    for writer in writers:
        _, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr
    assert listing(cache) == [f"key{i}_o.h5" for i in range(8)]  # and no temporary file left
    for i in range(8):
        file_name = str(cache / f"key{i}_o.h5")
        done, ok, (writer, payload) = get_output(file_name)
        assert done and ok and writer in ("A", "B") and len(payload) == 2_000_000
        assert get_runtime(file_name) == writer  # every dataset of the file comes from the same writer
        assert load(file_name)["fn"] is len


# --- terminate ----------------------------------------------------------------------------------------------


def make_cache(cache: Path) -> None:
    dump(str(cache / "slurmjob_i.h5"), {"fn": my_funct, "queue_id": 123})
    dump(str(cache / "nested" / "other_i.h5"), {"fn": my_funct, "queue_id": 456})
    dump(str(cache / "local_i.h5"), {"fn": my_funct})  # no job: only removed
    dump(str(cache / "done_o.h5"), {"fn": my_funct, "output": 1, "queue_id": 789})  # finished: left alone


def remaining(cache: Path) -> list:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*.h5"))


@pytest.mark.parametrize("backend, command", [("slurm", ["scancel"]), ("flux", ["flux", "cancel"])])
def test_terminate_tasks_in_cache_command_lines(tmp_path, backend, command):
    make_cache(tmp_path)
    commands = []
    terminate_tasks_in_cache(str(tmp_path), backend=backend, runner=commands.append)
    assert sorted(commands) == sorted([[*command, "123"], [*command, "456"]])
    assert remaining(tmp_path) == ["done_o.h5"]


def test_terminate_task_in_cache_one_key(tmp_path):
    make_cache(tmp_path)
    commands = []
    terminate_task_in_cache(str(tmp_path), "slurmjob", pysqa_config_directory="/unused", backend="slurm",
                            runner=commands.append)
    assert commands == [["scancel", "123"]]
    assert remaining(tmp_path) == ["done_o.h5", "local_i.h5", "nested/other_i.h5"]
    terminate_task_in_cache(str(tmp_path), "local", runner=commands.append)  # no job: no backend needed
    assert commands == [["scancel", "123"]] and remaining(tmp_path) == ["done_o.h5", "nested/other_i.h5"]
    with pytest.raises(FileNotFoundError):
        terminate_task_in_cache(str(tmp_path), "missing", backend="slurm", runner=commands.append)


@pytest.mark.parametrize("backend", [None, "pbs"])
def test_terminate_without_a_usable_backend_changes_nothing(tmp_path, backend):
    make_cache(tmp_path)
    before, commands = remaining(tmp_path), []
    with pytest.raises(ValueError) as info:
        terminate_tasks_in_cache(str(tmp_path), backend=backend, runner=commands.append)
    assert "'slurm'" in str(info.value) and "'flux'" in str(info.value) and repr(backend) in str(info.value)
    with pytest.raises(ValueError, match="'slurm', 'flux'"):
        terminate_task_in_cache(str(tmp_path), "slurmjob", backend=backend, runner=commands.append)
    assert commands == [] and remaining(tmp_path) == before


def fake_command(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_terminate_runs_the_real_scancel_and_flux(tmp_path, monkeypatch):
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    fake_command(bin_dir, "scancel", f'echo "scancel $*" >> "{log}"\n')
    fake_command(bin_dir, "flux", f'echo "flux $*" >> "{log}"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cache = tmp_path / "cache"
    make_cache(cache)
    terminate_task_in_cache(str(cache), "slurmjob", backend="slurm")
    assert log.read_text() == "scancel 123\n"
    terminate_tasks_in_cache(str(cache), backend="flux")
    assert log.read_text() == "scancel 123\nflux cancel 456\n"
    assert remaining(cache) == ["done_o.h5"]


def test_terminate_with_scancel_missing(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    make_cache(tmp_path / "cache")
    with pytest.raises(RuntimeError) as info:
        terminate_task_in_cache(str(tmp_path / "cache"), "slurmjob", backend="slurm")
    assert "'scancel'" in str(info.value) and "not found on PATH" in str(info.value)
    assert "scheduler is reachable" in str(info.value)
    assert (tmp_path / "cache" / "slurmjob_i.h5").exists()


def test_terminate_with_failing_scancel(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    fake_command(bin_dir, "scancel", 'echo "scancel: error: Kill job error on job id $1: Access denied" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cache = tmp_path / "cache"
    make_cache(cache)
    with pytest.raises(RuntimeError) as info:
        terminate_task_in_cache(str(cache), "slurmjob", backend="slurm")
    assert "'scancel 123' failed with exit status 1" in str(info.value)
    assert "Kill job error on job id 123: Access denied" in str(info.value)
    assert (cache / "slurmjob_i.h5").exists()


def test_cancel_commands_match_pysqa():
    # pysqa's delete_job runs delete_job_command + [str(id)]: ["scancel"] for slurm, ["flux", "cancel"] for flux.
    assert terminate.cancel_command(123, "slurm") == ["scancel", "123"]
    assert terminate.cancel_command(456, "flux") == ["flux", "cancel", "456"]
