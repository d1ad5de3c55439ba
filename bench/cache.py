#!/usr/bin/python3
"""The HDF5 result cache: hits (1 kB, 100 MB NumPy array) and a 100 MB write vs executorlib's h5py loader and writer.

executorlab: ``SingleNodeExecutor(cache_directory=DIR)`` (default mode; on a hit nothing runs), calls named by
``resource_dict={"cache_key": K}``. Peer: executorlib's own code for the same files, in this script —
the loader ``cloudpickle.loads(h5py.File(path)["/output"][()].tobytes())`` and the writer
``create_dataset(name, data=np.frombuffer(pickle, np.uint8), compression="gzip")`` for each of function,
input_args, input_kwargs, resource_dict, output, runtime.

- hit, 1 kB: N x ``submit(...).result()`` with ``K_o.h5`` present (written by the bridge), each followed by one
  peer load of the same file; medians. Target: <= 2 ms.
- write: a call returning the array; from ``.result()`` returning until ``K_o.h5`` exists (polled every 2 ms; the
  bridge sends the result, then writes a temporary file, then renames it). Peer: h5py writing the same six
  pickles (bytes read back from the bridge's file) in executorlib's way, file open to close. Medians.
  Target: <= 1.2x peer.
- hit, 100 MB: ``submit(...).result()`` until the array is back, from the bridge's file of the write
  benchmark, vs the peer loader on that file, taking turns; medians. Target: <= 1.25x peer.
"""

import os
import shutil
import tempfile
import time

import cloudpickle
import h5py
import numpy as np

import _common as c

HIT_SMALL_TARGET = 2e-3
HIT_BIG_TARGET = 1.25
WRITE_TARGET = 1.2
POLL = 0.002  # s between looks for the cache file
WRITE_TIMEOUT = 300.0
SMALL_WARMUP = 20
EXECUTORLIB_DATASETS = ("function", "input_args", "input_kwargs", "resource_dict", "output", "runtime")


def small_result():
    """A result whose pickle is about 1 kB."""
    return bytes(range(256)) * 4


def big_array(n_bytes: int):
    import numpy as np

    return np.random.default_rng(0).random(n_bytes // 8)


# ---- executorlib's code (standalone/hdf.py), the peer


def executorlib_load_output(path: str):
    with h5py.File(path, "r") as f:
        return cloudpickle.loads(f["/output"][()].tobytes())


def executorlib_write(path: str, pickles: dict) -> None:
    """executorlib's dump() for pickles already made: one gzip uint8 dataset per item."""
    with h5py.File(path, "a") as f:
        for name, blob in pickles.items():
            f.create_dataset(name, data=np.frombuffer(blob, dtype=np.uint8), compression="gzip")


def read_pickles(path: str) -> dict:
    with h5py.File(path, "r") as f:
        return {name: f[name][()].tobytes() for name in EXECUTORLIB_DATASETS}


# ---- measurements


def wait_for_file(path: str) -> float:
    """Poll until path exists; the perf_counter time it was first seen."""
    deadline = c.now() + WRITE_TIMEOUT
    while not os.path.exists(path):
        if c.now() > deadline:
            raise RuntimeError(f"the bridge did not write {path} within {WRITE_TIMEOUT:.0f} s "
                               f"(directory holds {sorted(os.listdir(os.path.dirname(path)))})")
        time.sleep(POLL)
    return c.now()


def hits_small(exe, directory: str, n: int) -> tuple:
    """(ours, peer) times of n 1 kB hits, the two taking turns call by call."""
    key = "hit-1kB"
    path = os.path.join(directory, f"{key}_o.h5")
    expected = small_result()
    assert exe.submit(small_result, resource_dict={"cache_key": key}).result(timeout=60) == expected  # the miss
    wait_for_file(path)
    size = len(read_pickles(path)["output"])

    def ours():
        value = exe.submit(small_result, resource_dict={"cache_key": key}).result(timeout=60)
        if value != expected:
            raise AssertionError("wrong result from the cache")

    def peer():
        if executorlib_load_output(path) != expected:
            raise AssertionError("wrong result from the peer loader")

    for _ in range(SMALL_WARMUP):
        ours()
        peer()
    ours_times, peer_times = [], []
    for _ in range(n):
        ours_times += c.time_each(ours, 1)
        peer_times += c.time_each(peer, 1)
    for name, times in (("executorlab", ours_times), ("peer", peer_times)):
        c.say(f"{name}: min {c.ms(min(times))}, median {c.ms(c.median(times))}, p90 {c.ms(c.percentile(times, 90))}, "
              f"max {c.ms(max(times))}")
    c.say(f"(output pickle {size} bytes, file {os.path.getsize(path)} bytes; {SMALL_WARMUP} untimed warm-up calls each)")
    return c.median(ours_times), c.median(peer_times)


def writes(exe, directory: str, peer_directory: str, n_bytes: int, reps: int) -> tuple:
    """(ours, peer) write times and the key of a file the bridge wrote (kept for the hit benchmark)."""
    ours_times, peer_times = [], []
    for i in range(reps):
        key = f"write-{i}"
        path = os.path.join(directory, f"{key}_o.h5")
        start = c.now()
        value = exe.submit(big_array, n_bytes, resource_dict={"cache_key": key}).result(timeout=WRITE_TIMEOUT)
        returned = c.now()
        already = os.path.exists(path)
        appeared = wait_for_file(path)
        ours_times.append(appeared - returned)
        if value.nbytes != n_bytes // 8 * 8:
            raise AssertionError(f"wrong result: {value.nbytes} bytes")
        del value
        pickles = read_pickles(path)
        peer_path = os.path.join(peer_directory, f"{key}_o.h5")
        t0 = c.now()
        executorlib_write(peer_path, pickles)
        peer_times.append(c.now() - t0)
        c.say(f"round {i + 1}: submit -> result {c.ms(returned - start)}, result -> {key}_o.h5 appears "
              f"{c.ms(ours_times[-1])}{' (already there when result() returned)' if already else ''}; "
              f"peer h5py write {c.ms(peer_times[-1])}")
        if i == 0:
            sizes = {name: len(blob) for name, blob in pickles.items()}
            c.say(f"pickles: output {c.mb(sizes['output'])}, the other five {sum(sizes.values()) - sizes['output']} bytes; "
                  f"files: executorlab {c.mb(os.path.getsize(path))}, peer {c.mb(os.path.getsize(peer_path))}")
        else:  # keep write-0 for the 100 MB hit, the peer's first file for an extra read
            os.remove(path)
            os.remove(peer_path)
        del pickles
    return c.median(ours_times), c.median(peer_times), "write-0"


def hits_big(exe, directory: str, peer_directory: str, key: str, n_bytes: int, reps: int) -> tuple:
    path = os.path.join(directory, f"{key}_o.h5")
    expected = big_array(n_bytes)

    def ours():
        return exe.submit(big_array, n_bytes, resource_dict={"cache_key": key}).result(timeout=WRITE_TIMEOUT)

    def peer():
        return executorlib_load_output(path)

    for name, fn in (("executorlab", ours), ("peer", peer)):  # one untimed each; checks the values
        if not np.array_equal(fn(), expected):
            raise AssertionError(f"{name}: wrong array from the cache file")
    ours_times, peer_times = [], []
    for _ in range(reps):
        ours_times += c.time_each(ours, 1)
        peer_times += c.time_each(peer, 1)
    c.say(f"executorlab: {', '.join(c.ms(t) for t in ours_times)}; peer: {', '.join(c.ms(t) for t in peer_times)}")
    own_file = os.path.join(peer_directory, f"{key}_o.h5")
    other = c.median(c.time_each(lambda: executorlib_load_output(own_file), reps))
    c.say(f"for context: the peer loader on h5py's own file (default chunks, gzip level 4): median {c.ms(other)}")
    return c.median(ours_times), c.median(peer_times)


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=200, quick=50, what="1 kB cache hits")
    megabytes = 10 if args.quick else 100
    n_bytes = megabytes * 2**20
    hit_reps, write_reps = (2, 1) if args.quick else (5, 3)
    c.header(f"HDF5 result cache: {args.n} hits of 1 kB, {megabytes} MB NumPy array", args)
    from executorlab import SingleNodeExecutor

    tmp = tempfile.mkdtemp(prefix="executorlab-bench-cache-")
    try:
        directory, peer_directory = os.path.join(tmp, "executorlab"), os.path.join(tmp, "peer")
        os.makedirs(peer_directory)
        with SingleNodeExecutor(cache_directory=directory) as exe:
            c.say(f"executorlab: SingleNodeExecutor(cache_directory=...), {args.n} x submit(small_result, "
                  f"resource_dict={{'cache_key': K}}).result() with K_o.h5 present; peer: executorlib's loader "
                  f"(h5py + cloudpickle) on the same file, after each call")
            small = hits_small(exe, directory, args.n)
            c.say(f"write: {write_reps} x a call returning a {megabytes} MB float64 array (cache_key), timed from "
                  f"result() returning until K_o.h5 exists (polled every {c.ms(POLL)}); nothing subtracted. "
                  f"Peer: h5py writing the same six pickles as executorlib does, file open to close")
            write = writes(exe, directory, peer_directory, n_bytes, write_reps)
            c.say(f"hit: {hit_reps} x submit(...).result() of the {megabytes} MB array from the bridge's file, "
                  f"after one untimed call; peer: executorlib's loader on the same file, taking turns")
            big = hits_big(exe, directory, peer_directory, write[2], n_bytes, hit_reps)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    o, p = small
    c.report(args, "cache hit, 1 kB result", c.ms(o), c.ms(p), c.times(o / p), f"<= {c.ms(HIT_SMALL_TARGET)}",
             o <= HIT_SMALL_TARGET)
    o, p = big
    c.report(args, f"cache hit, {megabytes} MB NumPy array", c.ms(o), c.ms(p), c.times(o / p),
             f"<= {HIT_BIG_TARGET:.2f}x peer", o / p <= HIT_BIG_TARGET)
    o, p = write[:2]
    c.report(args, f"cache write, {megabytes} MB result", c.ms(o), c.ms(p), c.times(o / p),
             f"<= {WRITE_TARGET:.1f}x peer", o / p <= WRITE_TARGET)


if __name__ == "__main__":
    main()
