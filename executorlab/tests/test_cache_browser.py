"""The bridge's cache browsing API (what the panel's cache browser uses) on real files, against a real bridge."""

import json
import os
import time
import urllib.parse
import urllib.request

import cloudpickle
import h5py
import numpy as np
import pytest

from executorlab.tests.conftest import StandaloneBridge, run_client, wait_for

DAY = 86400


def request(bridge, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{bridge.info['http_url']}{path}", data=data, method="POST" if body is not None else "GET")
    req.add_header("Authorization", f"token {bridge.info['token']}")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def listing(bridge, directory, **query):
    params = urllib.parse.urlencode({"directory": str(directory), **query})
    return request(bridge, f"/api/cache?{params}")


def executorlib_file(path, **datasets):
    with h5py.File(path, "w") as f:
        for name, value in datasets.items():
            f.create_dataset(name, data=np.frombuffer(cloudpickle.dumps(value), dtype=np.uint8), compression="gzip")


def slow(seconds):
    time.sleep(seconds)
    return seconds


@pytest.fixture
def allowed(tmp_path):
    root = tmp_path / "allowed"
    root.mkdir()
    return root


@pytest.fixture
def bridge(tmp_path, allowed):
    bridge = StandaloneBridge(tmp_path, "--cache-root", str(allowed))
    yield bridge
    bridge.stop()


@pytest.fixture
def cache(allowed, bridge):
    """Three results written by executorlab, one by executorlib, a failure, a queued cluster job, and
    things that are not entries: a text file, a folder, a symlink to a file outside."""
    cache = allowed / "cache"
    code = f"""
from executorlab import SingleNodeExecutor
with SingleNodeExecutor(cache_directory={str(cache)!r}) as exe:
    for i, key in enumerate(["alpha", "beta", "gamma"]):
        exe.submit(sum, [i, 10], resource_dict={{"cache_key": key}}).result()
"""
    result = run_client(code, bridge.env)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: len(list(cache.glob("*_o.h5"))) == 3, 10, "three cache files")
    executorlib_file(cache / f"square{'0' * 32}_o.h5", function=pow, input_args=(3, 2), output=9, runtime=0.5)
    executorlib_file(cache / "broken_o.h5", function=pow, error=ValueError("no"), runtime=1.0)
    executorlib_file(cache / "queued_i.h5", function=pow, input_args=(1, 1), queue_id=4242)
    (cache / "notes.txt").write_text("not a cache file")
    (cache / "job-folder").mkdir()
    outside = allowed.parent / "outside_o.h5"
    executorlib_file(outside, function=pow, output=1)
    (cache / "link_o.h5").symlink_to(outside)
    return cache


def test_listing_shows_cache_files_only_with_what_can_be_read_without_unpickling(bridge, cache):
    status, body = listing(bridge, cache, sort="key", limit=100)
    assert status == 200, body
    entries = {e["file"]: e for e in body["entries"]}
    assert sorted(entries) == sorted(["alpha_o.h5", "beta_o.h5", "gamma_o.h5", f"square{'0' * 32}_o.h5", "broken_o.h5", "queued_i.h5"])
    assert body["total"] == 6
    assert body["total_bytes"] == sum(os.path.getsize(cache / name) for name in entries)
    alpha = entries["alpha_o.h5"]
    assert (alpha["function"], alpha["status"], alpha["writer"], alpha["result"]) == ("sum", "done", "executorlab", "10")
    assert alpha["runtime"] >= 0 and alpha["size"] == os.path.getsize(cache / "alpha_o.h5")
    square = entries[f"square{'0' * 32}_o.h5"]
    assert (square["function"], square["status"], square["writer"], square["runtime"]) == ("square", "done", "executorlib", 0.5)
    assert (entries["broken_o.h5"]["status"], entries["broken_o.h5"]["runtime"]) == ("failed", 1.0)
    assert (entries["queued_i.h5"]["status"], entries["queued_i.h5"]["queue_id"]) == ("pending", 4242)
    assert [e["key"] for e in body["entries"]] == sorted(e["key"] for e in body["entries"])


def test_paging_and_sorting(bridge, cache):
    _, first = listing(bridge, cache, sort="key", order="desc", limit=2)
    _, second = listing(bridge, cache, sort="key", order="desc", limit=2, offset=2)
    _, everything = listing(bridge, cache, sort="key", order="desc")
    assert [e["file"] for e in first["entries"] + second["entries"]] == [e["file"] for e in everything["entries"]][:4]
    _, by_runtime = listing(bridge, cache, sort="runtime", order="desc", limit=1)
    assert by_runtime["entries"][0]["file"] == "broken_o.h5"
    _, by_status = listing(bridge, cache, sort="status")
    assert [e["status"] for e in by_status["entries"]] == sorted(e["status"] for e in by_status["entries"])
    status, body = listing(bridge, cache, sort="colour")
    assert status == 400 and "sort must be one of modified, key, size, function, status, runtime" in body["error"]
    status, body = listing(bridge, cache, limit=0)
    assert status == 400 and "limit must be an integer from 1 to 1000" in body["error"]


def test_one_entry_in_detail_and_names_that_are_refused(bridge, cache):
    status, body = request(bridge, f"/api/cache/entry?directory={cache}&file=alpha_o.h5")
    assert status == 200, body
    assert set(body["datasets"]) == {"function", "input_args", "input_kwargs", "resource_dict", "output", "runtime"}
    assert body["attributes"]["executorlab_function"] == "sum"
    for name, code, words in (
        ("notes.txt", 400, "is not a cache file name"),
        ("../outside_o.h5", 400, "is not a cache file name"),
        ("missing_o.h5", 404, "no cache file missing_o.h5"),
        ("link_o.h5", 400, "is a symlink or not a regular file"),
    ):
        status, body = request(bridge, f"/api/cache/entry?directory={cache}&file={urllib.parse.quote(name)}")
        assert (status, words in body["error"]) == (code, True), (name, body)


def test_delete_removes_the_chosen_files_and_refuses_the_rest(bridge, cache, allowed):
    status, body = request(bridge, "/api/cache/delete",
                           {"directory": str(cache), "files": ["alpha_o.h5", "link_o.h5", "notes.txt", "../x_o.h5"]})
    assert status == 200, body
    assert body["removed"] == [{"file": "alpha_o.h5", "bytes": body["bytes"]}] and body["bytes"] > 0
    assert sorted(r["file"] for r in body["refused"]) == ["../x_o.h5", "link_o.h5", "notes.txt"]
    assert not (cache / "alpha_o.h5").exists()
    assert (cache / "link_o.h5").is_symlink() and (allowed.parent / "outside_o.h5").exists() and (cache / "notes.txt").exists()


def test_clean_says_first_what_would_go_then_removes_just_that(bridge, cache):
    status, preview = request(bridge, "/api/cache/clean", {"directory": str(cache), "mode": "failed", "dry_run": True})
    assert status == 200, preview
    assert (preview["count"], [f["file"] for f in preview["files"]]) == (1, ["broken_o.h5"])
    assert preview["bytes"] == os.path.getsize(cache / "broken_o.h5") and (cache / "broken_o.h5").exists()
    _, done = request(bridge, "/api/cache/clean", {"directory": str(cache), "mode": "failed"})
    assert (done["dry_run"], done["count"], done["bytes"]) == (False, 1, preview["bytes"])
    assert not (cache / "broken_o.h5").exists()
    old = time.time() - 3 * DAY
    os.utime(cache / "beta_o.h5", (old, old))
    _, older = request(bridge, "/api/cache/clean", {"directory": str(cache), "mode": "older", "days": 2})
    assert [f["file"] for f in older["files"]] == ["beta_o.h5"] and not (cache / "beta_o.h5").exists()
    _, rest = request(bridge, "/api/cache/clean", {"directory": str(cache), "mode": "all"})
    assert rest["count"] == 4
    assert sorted(p.name for p in cache.iterdir()) == ["job-folder", "link_o.h5", "notes.txt"]
    status, body = request(bridge, "/api/cache/clean", {"directory": str(cache), "mode": "older"})
    assert status == 400 and "mode older needs days" in body["error"]
    status, body = request(bridge, "/api/cache/clean", {"directory": str(cache), "mode": "everything"})
    assert status == 400 and "mode must be all, failed or older" in body["error"]


def test_a_running_calls_file_is_never_deleted(bridge, allowed):
    cache = allowed / "busy"
    cache.mkdir()
    # An old failure of the call that now runs again: its file stays until the call finished.
    executorlib_file(cache / "slow-call_o.h5", function=slow, error=ValueError("earlier"))
    code = f"""
from executorlab import SingleNodeExecutor
from executorlab.tests.test_cache_browser import slow
with SingleNodeExecutor(cache_directory={str(cache)!r}) as exe:
    print(exe.submit(slow, 3, resource_dict={{"cache_key": "slow-call"}}).result())
"""
    import subprocess
    import sys

    from executorlab.tests.conftest import REPO

    run = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO), **bridge.env},
                           stdout=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: [t for t in bridge.tasks("slow") if t["state"] == "running"], 60, "the call to run")
        _, body = listing(bridge, cache)
        assert body["entries"][0]["in_use"] is True
        _, deleted = request(bridge, "/api/cache/delete", {"directory": str(cache), "files": ["slow-call_o.h5"]})
        assert deleted["removed"] == [] and "not finished" in deleted["refused"][0]["reason"]
        _, cleaned = request(bridge, "/api/cache/clean", {"directory": str(cache), "mode": "all"})
        assert (cleaned["count"], cleaned["kept_in_use"]) == (0, 1)
        assert (cache / "slow-call_o.h5").exists()
    finally:
        assert run.communicate(timeout=60)[0].strip() == "3"
    _, body = wait_for(lambda: (lambda r: r if r[1]["entries"] and r[1]["entries"][0]["status"] == "done" else None)(listing(bridge, cache)),
                       10, "the new result")
    assert body["entries"][0]["in_use"] is False


def test_directories_that_are_refused(bridge, tmp_path, allowed):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (allowed / "sneaky").symlink_to(outside)
    (allowed / "plain.txt").write_text("x")
    for directory, code, words in (
        (outside, 403, "is outside the folders cache directories may be in"),
        (allowed / "sneaky", 403, "is outside the folders"),
        ("relative/dir", 400, "directory must be an absolute path"),
        (allowed / "missing", 404, "does not exist"),
        (allowed / "plain.txt", 400, "is not a directory"),
    ):
        status, body = listing(bridge, directory)
        assert (status, words in body["error"]) == (code, True), (directory, body)


def test_a_directory_a_kernel_used_may_be_browsed_outside_the_roots(bridge, tmp_path):
    cache = tmp_path / "kernel-cache"
    result = run_client(f"""
from executorlab import SingleNodeExecutor
with SingleNodeExecutor(cache_directory={str(cache)!r}) as exe:
    exe.submit(sum, [1, 2]).result()
""", bridge.env)
    assert result.returncode == 0, result.stderr
    status, body = wait_for(lambda: (lambda r: r if r[1].get("total") == 1 else None)(listing(bridge, cache)), 10, "the entry")
    assert status == 200 and body["entries"][0]["function"] == "sum"


def test_the_directories_kernels_used_are_listed_for_the_picker(bridge, cache):
    status, body = request(bridge, "/api/cache/directories")
    assert status == 200, body
    assert body["directories"] == [os.path.realpath(cache)]
