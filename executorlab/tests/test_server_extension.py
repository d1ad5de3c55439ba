"""The Jupyter server extension: starts the bridge, proxies its API behind Jupyter's auth, restarts it."""

import json
import os
import signal
import stat

from tornado import httpclient, ioloop, websocket

from executorlab.tests.conftest import JupyterServer, run_client

SUBMIT_SUM = (
    "from executorlab import SingleNodeExecutor\n"
    "with SingleNodeExecutor() as exe:\n"
    "    print(exe.submit(sum, [1, 1]).result(timeout=60))\n"
)


def test_api_is_proxied_behind_jupyter_auth(jupyter_server):
    code, status = jupyter_server.get("executorlab/api/status")
    assert code == 200 and status["version"] == "0.1.0"
    code, _ = jupyter_server.get("executorlab/api/status", token=False)
    assert code == 403
    code, _ = jupyter_server.get("executorlab/api/no-such-thing")
    assert code == 404


def test_connection_file_is_private_and_names_the_bridge(jupyter_server):
    mode = stat.S_IMODE(os.stat(jupyter_server.connection_file).st_mode)
    assert mode == 0o600
    info = json.loads(jupyter_server.connection_file.read_text())
    assert info["pid"] == jupyter_server.bridge_status()["pid"]
    assert info["client_endpoint"].startswith("tcp://127.0.0.1:")
    assert len(info["server_public_key"]) == 40


def test_kernel_side_client_uses_the_servers_bridge(jupyter_server):
    env = {"EXECUTORLAB_CONNECTION_FILE": str(jupyter_server.connection_file)}
    done = run_client(SUBMIT_SUM, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    code, body = jupyter_server.get("executorlab/api/tasks")
    assert code == 200
    assert [(t["fn_name"], t["state"]) for t in body["tasks"]] == [("sum", "done")]
    assert body["tasks"][0]["runtime"] > 0


def test_events_websocket_sends_snapshot_then_changes(jupyter_server):
    async def scenario():
        url = jupyter_server.url.replace("http", "ws") + f"/executorlab/api/events?token={jupyter_server.token}"
        conn = await websocket.websocket_connect(url)
        snapshot = json.loads(await conn.read_message())
        assert snapshot == {"type": "snapshot", "tasks": []}
        assert json.loads(await conn.read_message()) == {"type": "executors", "executors": []}
        env = {"EXECUTORLAB_CONNECTION_FILE": str(jupyter_server.connection_file)}
        done = await ioloop.IOLoop.current().run_in_executor(None, run_client, SUBMIT_SUM, env)
        assert done.returncode == 0, done.stderr
        states, executors = [], []
        while "done" not in states:
            message = json.loads(await conn.read_message())
            assert message["type"] in ("tasks", "executors")
            if message["type"] == "executors":
                executors = message["executors"]
            else:
                states += [t["state"] for t in message["tasks"] if t["fn_name"] == "sum"]
        conn.close()
        return states, executors

    states, executors = ioloop.IOLoop.current().run_sync(scenario, timeout=120)
    assert states[-1] == "done"
    assert [(e["name"], e["backend"]) for e in executors] == [("SingleNodeExecutor", "local")]


def test_events_websocket_refuses_without_jupyter_token(jupyter_server):
    async def scenario():
        url = jupyter_server.url.replace("http", "ws") + "/executorlab/api/events"
        try:
            await websocket.websocket_connect(url)
        except httpclient.HTTPClientError as error:
            return error.code
        return None

    assert ioloop.IOLoop.current().run_sync(scenario, timeout=30) == 403


def test_killed_bridge_is_restarted_and_new_submits_work(jupyter_server):
    env = {"EXECUTORLAB_CONNECTION_FILE": str(jupyter_server.connection_file)}
    first = jupyter_server.bridge_status()["pid"]
    os.kill(first, signal.SIGKILL)
    status = jupyter_server.wait_until(
        lambda: (s := jupyter_server.bridge_status()) and s["pid"] != first and s, 15, "a new bridge"
    )
    assert status["pid"] != first
    done = run_client(SUBMIT_SUM, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"


def test_kernel_keeps_working_across_a_bridge_restart(jupyter_server):
    """The same process (a kernel) and the same executor submit again after the bridge was replaced."""
    code = (
        "import json, os, signal, time\n"
        "from executorlab import SingleNodeExecutor\n"
        "path = os.environ['EXECUTORLAB_CONNECTION_FILE']\n"
        "exe = SingleNodeExecutor()\n"
        "print(exe.submit(sum, [1, 1]).result(timeout=60))\n"
        "old = json.load(open(path))['pid']\n"
        "os.kill(old, signal.SIGKILL)\n"
        "from executorlab.client.bridge_process import read_connection_file\n"
        "while (read_connection_file(path) or {'pid': old})['pid'] == old:\n"
        "    time.sleep(0.1)\n"
        "print(exe.submit(sum, [2, 2]).result(timeout=60))\n"
        "print(json.load(open(path))['pid'] != old)\n"
        "exe.shutdown()\n"
    )
    done = run_client(code, {"EXECUTORLAB_CONNECTION_FILE": str(jupyter_server.connection_file)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "4", "True"]


def test_bridge_stops_with_the_server(jupyter_server):
    bridge = jupyter_server.bridge_status()["pid"]
    jupyter_server.stop()
    from executorlab.client.bridge_process import pid_alive

    jupyter_server.wait_until(lambda: not pid_alive(bridge), 15, "the bridge to stop", allow_exit=True)
    assert not jupyter_server.connection_file.exists()


def test_the_proxy_works_under_a_base_url_prefix(tmp_path):
    server = JupyterServer(tmp_path, base_url="/hub/user/ada/")
    try:
        status = server.wait_until(server.bridge_status, 60, "the bridge behind the prefixed server")
        assert status["pid"] > 0
        code, body = server.get("executorlab/api/executors")
        assert (code, body) == (200, {"executors": []})

        async def events():
            url = server.url.replace("http", "ws") + f"/executorlab/api/events?token={server.token}"
            conn = await websocket.websocket_connect(url)
            first = json.loads(await conn.read_message())
            conn.close()
            return first

        assert ioloop.IOLoop.current().run_sync(events, timeout=60) == {"type": "snapshot", "tasks": []}
    finally:
        server.stop()
