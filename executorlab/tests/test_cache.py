"""The HDF5 result cache against the real bridge: lookups, writes with h5wasm, executorlib's file format."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import h5py
import numpy as np
import pytest

from executorlab import SingleNodeExecutor
from executorlab.tests.conftest import REPO, StandaloneBridge, run_client, wait_for

EXECUTORLIB_DATASETS = {"function", "input_args", "input_kwargs", "resource_dict", "output", "runtime"}


# ---- functions the workers run (module level: pickled by reference, so keys are stable across processes)


def add(a, b):
    return a + b


def add_logged(a, b, log):
    """a + b, and one line in `log` per call: how a test sees whether a call ran."""
    with open(log, "a") as f:
        f.write(f"{a}+{b}\n")
    return a + b


def big_array(megabytes):
    return np.random.default_rng(0).random(megabytes * 1024 * 1024 // 8)


def executorlib_key(fn, args, kwargs) -> str:
    """executorlib's rule (standalone/serialize.py), written out here to check ours against it."""
    binary = cloudpickle.dumps({"fn": fn, "args": args, "kwargs": kwargs})
    return fn.__name__ + hashlib.md5(re.sub(b"(?<=/ipykernel_)(.*)(?=/)", b"", binary)).hexdigest()


def executorlib_dump(path: Path, data: dict) -> None:
    """A file as executorlib's standalone/hdf.py writes it."""
    names = {"fn": "function", "args": "input_args", "kwargs": "input_kwargs", "output": "output",
             "error": "error", "resource_dict": "resource_dict", "runtime": "runtime"}
    with h5py.File(path, "a") as f:
        for key, value in data.items():
            f.create_dataset(names[key], data=np.frombuffer(cloudpickle.dumps(value), dtype=np.uint8), compression="gzip")


def executorlib_load_output(path: Path):
    with h5py.File(path, "r") as f:
        return cloudpickle.loads(f["/output"][()].tobytes())


def calls(log: Path) -> list:
    return log.read_text().split() if log.exists() else []


def output_file(directory: Path, key: str) -> Path:
    return directory / f"{key}_o.h5"


def test_a_miss_runs_and_writes_executorlibs_file_a_hit_runs_nothing(tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    with SingleNodeExecutor(max_workers=1, block_allocation=True, cache_directory=str(cache)) as exe:
        assert exe.submit(add_logged, 1, 2, str(log)).result(timeout=60) == 3
    key = executorlib_key(add_logged, (1, 2, str(log)), {})
    path = wait_for(lambda: output_file(cache, key) if output_file(cache, key).exists() else None, 10, "the cache file")
    assert calls(log) == ["1+2"]
    with h5py.File(path, "r") as f:
        assert set(f.keys()) == EXECUTORLIB_DATASETS
        for name in f.keys():
            assert f[name].dtype == np.uint8 and f[name].compression == "gzip", name
        assert cloudpickle.loads(f["input_args"][()].tobytes()) == (1, 2, str(log))
        assert cloudpickle.loads(f["input_kwargs"][()].tobytes()) == {}
        assert cloudpickle.loads(f["function"][()].tobytes()) is add_logged
        assert isinstance(cloudpickle.loads(f["runtime"][()].tobytes()), float)
        attributes = dict(f.attrs)
    assert executorlib_load_output(path) == 3
    assert attributes["executorlab_function"] == "add_logged"
    assert attributes["executorlab_status"] == "done"
    assert attributes["executorlab_result"] == "3"
    assert attributes["executorlab_size"] == len(cloudpickle.dumps(3))
    # A new executor (as a rerun would have) finds it: the function does not run again.
    with SingleNodeExecutor(cache_directory=str(cache)) as exe:
        assert exe.submit(add_logged, 1, 2, str(log)).result(timeout=60) == 3
        assert exe.submit(add_logged, 2, 2, str(log)).result(timeout=60) == 4
    assert calls(log) == ["1+2", "2+2"]


def test_cache_key_names_the_file_and_a_bad_one_is_refused_at_submit(tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    with SingleNodeExecutor(cache_directory=str(cache)) as exe:
        assert exe.submit(add_logged, 1, 1, str(log), resource_dict={"cache_key": "my-sum"}).result(timeout=60) == 2
        assert exe.submit(add_logged, 5, 5, str(log), resource_dict={"cache_key": "my-sum"}).result(timeout=60) == 2
        for bad in ("a/b", ".hidden", "", "x" * 201):
            with pytest.raises(ValueError, match="cache_key"):
                exe.submit(add, 1, 1, resource_dict={"cache_key": bad})
    assert calls(log) == ["1+1"], "the second call has the same key: it is a hit"
    assert wait_for(lambda: output_file(cache, "my-sum").exists(), 10, "my-sum_o.h5")


def test_cache_directory_per_call_and_relative_to_the_kernels_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SingleNodeExecutor() as exe:
        assert exe.submit(add, 2, 3, resource_dict={"cache_directory": "per-call"}).result(timeout=60) == 5
    key = executorlib_key(add, (2, 3), {})
    assert wait_for(lambda: output_file(tmp_path / "per-call", key).exists(), 10, "the per-call cache file")


RERUN = """
import sys
from executorlab import SingleNodeExecutor, split_future
from executorlab.tests.test_cache import add_logged
cache, log = sys.argv[1], sys.argv[2]
with SingleNodeExecutor(max_workers=2, block_allocation=True, cache_directory=cache) as exe:
    a = exe.submit(add_logged, 1, 2, log)
    b = exe.submit(add_logged, a, 10, log)
    c = exe.submit(add_logged, [a, b][1], a, log)
    pair = exe.submit(add_logged, (1,), (2,), log)
    first, second = split_future(pair, 2)
    d = exe.submit(add_logged, first, 100, log)
    print(a.result(), b.result(), c.result(), d.result())
"""


def test_a_rerun_of_a_dependency_chain_hits_every_step(tmp_path):
    """Each step's key comes from its dependencies' keys: a second run (a new process, as a rerun of the
    notebook) computes the same keys before anything finished, and no function runs again."""
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    script = tmp_path / "rerun.py"
    script.write_text(RERUN)
    first = subprocess.run([sys.executable, str(script), str(cache), str(log)], capture_output=True, text=True,
                           timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["3", "13", "16", "101"]
    ran = calls(log)
    assert sorted(ran) == sorted(["1+2", "3+10", "13+3", "(1,)+(2,)", "1+100"])
    second = subprocess.run([sys.executable, str(script), str(cache), str(log)], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["3", "13", "16", "101"]
    assert calls(log) == ran, "the rerun ran functions again"
    # The dependent's file names its dependency by key, a plain dict executorlib can load.
    b_files = [p for p in cache.iterdir() if h5py.File(p, "r").attrs["executorlab_result"] == "13"]
    with h5py.File(b_files[0], "r") as f:
        args = cloudpickle.loads(f["input_args"][()].tobytes())
    assert args[0] == {"executorlab_dependency": executorlib_key(add_logged, (1, 2, str(log)), {}), "selectors": []}


def test_a_file_written_by_executorlib_is_a_hit(tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    cache.mkdir()
    key = executorlib_key(add_logged, (7, 8, str(log)), {})
    executorlib_dump(output_file(cache, key), {"fn": add_logged, "args": (7, 8, str(log)), "kwargs": {},
                                               "resource_dict": {}, "output": "from executorlib", "runtime": 0.25})
    with SingleNodeExecutor(cache_directory=str(cache)) as exe:
        assert exe.submit(add_logged, 7, 8, str(log)).result(timeout=60) == "from executorlib"
    assert calls(log) == []


def test_a_file_holding_only_an_error_is_a_miss_and_is_replaced(tmp_path):
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    cache.mkdir()
    key = executorlib_key(add_logged, (1, 1, str(log)), {})
    executorlib_dump(output_file(cache, key), {"fn": add_logged, "error": ValueError("old failure")})
    with SingleNodeExecutor(cache_directory=str(cache)) as exe:
        assert exe.submit(add_logged, 1, 1, str(log)).result(timeout=60) == 2
    assert calls(log) == ["1+1"]
    wait_for(lambda: "output" in h5py.File(output_file(cache, key), "r"), 10, "the file with the output")
    assert executorlib_load_output(output_file(cache, key)) == 2


def test_failures_are_not_cached(tmp_path):
    cache = tmp_path / "cache"
    with SingleNodeExecutor(cache_directory=str(cache)) as exe:
        with pytest.raises(TypeError):
            exe.submit(add, 1, "x").result(timeout=60)
    time.sleep(0.5)
    assert not cache.exists() or list(cache.iterdir()) == []


CONCURRENT = """
import sys
from executorlab import SingleNodeExecutor
from executorlab.tests.test_cache import big_array
with SingleNodeExecutor(cache_directory=sys.argv[1]) as exe:
    print(exe.submit(big_array, 8).result().sum())
"""


def test_two_kernels_writing_the_same_key_leave_one_valid_file(tmp_path):
    cache = tmp_path / "cache"
    for name in ("b0", "b1"):
        (tmp_path / name).mkdir()
    bridges = [StandaloneBridge(tmp_path / "b0"), StandaloneBridge(tmp_path / "b1")]
    try:
        runs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, str(cache)], stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONPATH": str(REPO), **b.env}) for b in bridges]
        sums = [float(p.communicate(timeout=120)[0]) for p in runs]
        assert all(p.returncode == 0 for p in runs)
    finally:
        for b in bridges:
            b.stop()  # waits for its cache writes
    [path] = list(cache.iterdir())
    assert path.name.endswith("_o.h5"), [p.name for p in cache.iterdir()]
    assert executorlib_load_output(path).sum() == sums[0] == sums[1]


def test_a_bridge_killed_while_writing_leaves_no_final_file(tmp_path):
    cache = tmp_path / "cache"
    bridge = StandaloneBridge(tmp_path)
    code = f"""
from executorlab import SingleNodeExecutor
from executorlab.tests.test_cache import big_array
with SingleNodeExecutor(cache_directory={str(cache)!r}) as exe:
    print(exe.submit(big_array, 200).result().shape)
"""
    try:
        run = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO), **bridge.env},
                               stdout=subprocess.PIPE, text=True)
        temporary = wait_for(lambda: cache.exists() and [p for p in cache.iterdir() if p.name.endswith(".tmp")], 120,
                             "the bridge to start writing the cache file")
        os.kill(bridge.process.pid, signal.SIGKILL)
        bridge.process.wait()
        run.communicate(timeout=60)
    finally:
        bridge.stop()
    assert [p for p in cache.iterdir() if p.name.endswith("_o.h5")] == [], "a half-written file under the final name"
    assert temporary[0].exists(), "the unfinished file stays under its temporary name"


def test_the_panel_sees_the_cache_key_and_hits(tmp_path, standalone_bridge):
    cache = tmp_path / "cache"
    code = f"""
from executorlab import SingleNodeExecutor
from executorlab.tests.test_cache import add
for _ in range(2):
    with SingleNodeExecutor(cache_directory={str(cache)!r}) as exe:
        exe.submit(add, 20, 22, resource_dict={{"cache_key": "answer"}}).result()
"""
    result = run_client(code, standalone_bridge.env)
    assert result.returncode == 0, result.stderr
    tasks = standalone_bridge.tasks("add")
    assert [(t["cache_key"], t["cache_hit"], t["state"]) for t in tasks] == [("answer", False, "done"), ("answer", True, "done")]


def test_block_allocation_takes_a_cache_key_per_call_but_no_resources(tmp_path):
    """executorlib refuses any per-call resource_dict with block_allocation; where a result is cached is
    not a resource, so executorlab takes cache_key and cache_directory per call."""
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    with SingleNodeExecutor(max_workers=1, block_allocation=True) as exe:
        per_call = {"cache_key": "blocked", "cache_directory": str(cache)}
        assert exe.submit(add_logged, 1, 2, str(log), resource_dict=per_call).result(timeout=60) == 3
        assert exe.submit(add_logged, 1, 2, str(log), resource_dict=per_call).result(timeout=60) == 3
        with pytest.raises(ValueError, match="resource requirements have to be defined on the executor level"):
            exe.submit(add, 1, 2, resource_dict={"cache_key": "x", "cores": 2})
    assert calls(log) == ["1+2"]
