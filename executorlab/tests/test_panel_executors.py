"""Executors started from the panel (POST /api/executors) and used from kernels by name (executorlab.connect)."""

import json
import os
import urllib.request

import pytest

from executorlab.tests.conftest import run_client, wait_for


def post(bridge, path: str, body: dict):
    request = urllib.request.Request(f"{bridge.info['http_url']}{path}", data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", f"token {bridge.info['token']}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def executors(bridge) -> dict:
    return {e["name"]: e for e in bridge.api("/api/executors")[1]["executors"]}


def test_an_executor_started_from_the_panel_is_used_by_name_and_outlives_its_kernels(standalone_bridge, tmp_path):
    cache = tmp_path / "cache"
    status, body = post(standalone_bridge, "/api/executors",
                        {"name": "shared", "backend": "local", "max_cores": 2, "cache_directory": str(cache)})
    assert status == 200, body
    assert (body["executor"]["client_id"], body["executor"]["max_cores"]) == ("panel", 2)
    code = """
import json, executorlab
exe = executorlab.connect("shared")
print(json.dumps([exe.submit(pow, 2, 5).result(), repr(exe)]))
exe.shutdown()
"""
    for _ in range(2):  # two kernels, one after the other, on the same executor
        result = run_client(code, standalone_bridge.env)
        assert result.returncode == 0, result.stderr
        value, text = json.loads(result.stdout.strip().splitlines()[-1])
        assert value == 32 and "shared" in text
    assert not executors(standalone_bridge)["shared"]["shutdown"], "a kernel's shutdown() leaves it running"
    # Its calls are cached in the directory the panel gave it.
    wait_for(lambda: list(cache.glob("pow*_o.h5")), 10, "the cache file")
    tasks = standalone_bridge.tasks("pow")
    assert len(tasks) == 2 and tasks[1]["cache_hit"], "the second kernel's call came from the cache"
    assert tasks[0]["cache_file"] == f"{cache}/{tasks[0]['cache_key']}_o.h5"


def test_panel_requests_are_checked_and_refusals_say_why(standalone_bridge):
    assert post(standalone_bridge, "/api/executors", {"name": "one", "backend": "local"})[0] == 200
    status, body = post(standalone_bridge, "/api/executors", {"name": "one", "backend": "local"})
    assert status == 409 and "in use" in body["error"]
    status, body = post(standalone_bridge, "/api/executors", {"name": "a/b", "backend": "local"})
    assert status == 400 and "name" in body["error"]
    status, body = post(standalone_bridge, "/api/executors", {"name": "x", "backend": "pbs"})
    assert status == 400 and "backend" in body["error"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_JOB")}
    if "SLURM_JOB_ID" not in env:  # the bridge runs outside an allocation here
        status, body = post(standalone_bridge, "/api/executors", {"name": "steps", "backend": "slurm"})
        assert status == 400 and "SLURM_JOB_ID is not set" in body["error"]


def test_connect_to_an_unknown_name_lists_the_panel_executors_and_stop_ends_one(standalone_bridge):
    status, body = post(standalone_bridge, "/api/executors", {"name": "alpha", "backend": "local"})
    assert status == 200
    result = run_client("""
import executorlab
try:
    executorlab.connect("beta")
except ValueError as error:
    print(error)
""", standalone_bridge.env)
    assert result.returncode == 0, result.stderr
    assert 'no executor named "beta"' in result.stdout and '"alpha"' in result.stdout
    executor_id = body["executor"]["id"]
    assert post(standalone_bridge, f"/api/executors/{executor_id}/shutdown", {})[0] == 200
    assert executors(standalone_bridge)["alpha"]["shutdown"]
    assert post(standalone_bridge, f"/api/executors/{executor_id}/shutdown", {})[0] == 404
    result = run_client("import executorlab\nexecutorlab.connect('alpha')", standalone_bridge.env)
    assert result.returncode != 0 and "no executor named" in result.stderr


def test_a_task_view_shows_its_arguments_briefly_and_where_it_ran(standalone_bridge):
    import socket

    result = run_client("""
from executorlab import SingleNodeExecutor
with SingleNodeExecutor() as exe:
    exe.submit(pow, 2, 5).result()
    exe.submit(len, list(range(300))).result()
""", standalone_bridge.env)
    assert result.returncode == 0, result.stderr
    pow_task, = standalone_bridge.tasks("pow")
    assert pow_task["args"] == "2, 5"
    assert pow_task["where"].startswith(socket.gethostname() + ":")
    assert standalone_bridge.tasks("len")[0]["args"] == "list[300]", "sizes, never a long repr"


def test_a_task_view_says_briefly_what_the_call_returned(standalone_bridge):
    result = run_client("""
from executorlab import SingleNodeExecutor
with SingleNodeExecutor(max_workers=1, block_allocation=True) as exe:
    exe.submit(pow, 2, 10).result()
    exe.submit(list, range(500)).result()
""", standalone_bridge.env)
    assert result.returncode == 0, result.stderr
    assert standalone_bridge.tasks("pow")[0]["result"] == "1024"
    assert standalone_bridge.tasks("list")[0]["result"] == "list[500]"
