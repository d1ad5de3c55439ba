"""Resource usage against the real bridge: workers' heartbeats (CPU %, memory) and the usage history."""

import json
import os
import time
import urllib.request

import pytest

from executorlab import SingleNodeExecutor
from executorlab.tests.conftest import StandaloneBridge, wait_for


def busy(seconds):
    """Keep one CPU busy for `seconds`; the worker's pid."""
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
    return os.getpid()


@pytest.fixture
def bridge(tmp_path):
    bridge = StandaloneBridge(tmp_path)
    yield bridge
    bridge.stop()


class BridgeOf:
    """The HTTP API of the bridge an executor runs on (this process's bridge: a private one, or the one
    an earlier test's client still talks to)."""

    def __init__(self, exe):
        self.info = exe._client.info

    def api(self, path: str):
        request = urllib.request.Request(f"{self.info['http_url']}{path}")
        request.add_header("Authorization", f"token {self.info['token']}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())


def test_two_busy_workers_show_up_with_their_memory_cpu_and_the_calls_running():
    cpu_seen = {}
    samples = []
    with SingleNodeExecutor(max_workers=2, block_allocation=True) as exe:
        bridge = BridgeOf(exe)
        futures = [exe.submit(busy, 3) for _ in range(2)]
        # A view polls while the calls run (GET /api/usage keeps the bridge sampling).
        while not all(f.done() for f in futures):
            code, usage = bridge.api("/api/usage")
            assert code == 200
            samples.extend(usage["samples"])
            for worker in ours(usage["workers"], exe):
                if worker["cpu_percent"] is not None:
                    cpu_seen[worker["pid"]] = max(cpu_seen.get(worker["pid"], 0), worker["cpu_percent"])
            time.sleep(0.25)
        pids = {f.result() for f in futures}
        assert len(pids) == 2

        # Every worker has sent a heartbeat (every 2 s, also while idle) with its memory.
        def both_reported():
            usage = bridge.api("/api/usage")[1]
            reported = [w for w in ours(usage["workers"], exe) if w["rss"] and w["cpu_percent"] is not None]
            return usage if len(reported) == 2 else None

        usage = wait_for(both_reported, 10, "heartbeats from both workers")
        workers = ours(usage["workers"], exe)
        assert {w["pid"] for w in workers} == pids
        for worker in workers:
            assert worker["rss"] > 10 << 20, worker  # a Python process with zmq and cloudpickle
            assert worker["host"] and worker["ranks"] == 1
            assert worker["updated"] <= time.time() * 1000 + 1000
        # Seen busy while the calls ran: a busy loop is far above idle.
        assert set(cpu_seen) == pids and all(cpu > 10 for cpu in cpu_seen.values()), cpu_seen

        history = usage["samples"]
        assert usage["interval_ms"] == 1000
        assert any(s["running"] >= 1 for s in samples + history), samples
        busiest = max(samples + history, key=lambda s: s["running"])
        # max_workers=2 of 1 core (more if an earlier test left an executor on this bridge)
        assert busiest["cores_busy"] >= 1 and busiest["cores_total"] >= 2
        assert [s["t"] for s in history] == sorted(s["t"] for s in history)
        # A view that polls asks only for what is new.
        newest = history[-1]["t"]
        time.sleep(1.1)
        assert all(s["t"] > newest for s in bridge.api(f"/api/usage?since={newest}")[1]["samples"])
    # Workers that left are dropped.
    wait_for(lambda: not any(w["pid"] in pids for w in bridge.api("/api/usage")[1]["workers"]), 10, "the workers to be dropped")


def ours(workers, exe):
    """The workers of this executor (the bridge may have others from earlier tests)."""
    return [w for w in workers if w["executor_id"] == exe._id]


def test_the_events_socket_pushes_usage_once_per_second(bridge):
    websocket = pytest.importorskip("websocket")
    url = bridge.info["http_url"].replace("http://", "ws://", 1) + "/api/events"
    socket = websocket.create_connection(url, header=[f"Authorization: token {bridge.info['token']}"], timeout=10)
    try:
        types, usage = [], []
        deadline = time.monotonic() + 10
        while len(usage) < 2 and time.monotonic() < deadline:
            message = json.loads(socket.recv())
            types.append(message["type"])
            if message["type"] == "usage":
                usage.append(message)
        assert types[:2] == ["snapshot", "executors"]
        assert len(usage) == 2, types
        first, second = usage
        assert set(first["sample"]) == {"t", "cores_busy", "cores_total", "gpus_busy", "gpus_total", "queued", "running"}
        assert 500 <= second["sample"]["t"] - first["sample"]["t"] <= 3000
        assert first["workers"] == []
    finally:
        socket.close()
    # What was sampled for the socket is the history a view opening later gets.
    samples = bridge.api("/api/usage")[1]["samples"]
    assert {s["t"] for s in usage_samples(usage)} <= {s["t"] for s in samples}


def usage_samples(events):
    return [event["sample"] for event in events]
