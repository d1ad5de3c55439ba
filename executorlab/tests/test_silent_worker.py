"""A worker that goes silent (stopped with SIGSTOP: its process exists but says nothing, as on a node that
is cut off) fails its call within the bridge's --worker-silence-limit, with an error naming its host and
how long it was silent; a block allocation replaces it. A call that holds the GIL is not silence."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from executorlab import ExecutorlabWorkerError, SingleNodeExecutor
from executorlab.client import bridge_process
from executorlab.client.bridge_process import pid_alive
from executorlab.tests.conftest import StandaloneBridge, wait_for

LIMIT = 3
# The call must fail within the limit; the margin is for a loaded 2-core machine (the check runs every
# second, the result travels back through the bridge).
MARGIN = 10


@pytest.fixture
def bridge(tmp_path, monkeypatch):
    bridge = StandaloneBridge(tmp_path, "--worker-silence-limit", str(LIMIT))
    monkeypatch.setenv("EXECUTORLAB_CONNECTION_FILE", str(bridge.connection_file))
    yield bridge
    bridge.stop()


def write_pid_and_sleep(path, seconds):
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def add(a, b):
    return a + b


def pid():
    return os.getpid()


def hold_the_gil(seconds):
    """One C call that never releases the GIL for about `seconds` (longer on a loaded machine): the
    worker's heartbeat thread cannot run meanwhile. Returns how long it took."""
    started = time.perf_counter()
    sum(range(2_000_000))
    per_item = (time.perf_counter() - started) / 2_000_000
    started = time.perf_counter()
    sum(range(int(seconds / per_item)))
    return time.perf_counter() - started


def stop_mid_call(exe, folder: Path, name: str):
    """Start a long call, SIGSTOP its worker; (worker pid, the call's exception, seconds it took to fail)."""
    path = folder / name
    future = exe.submit(write_pid_and_sleep, str(path), 120)
    victim = int(wait_for(lambda: path.exists() and path.read_text(), 60, "the call to start"))
    os.kill(victim, signal.SIGSTOP)
    stopped = time.monotonic()
    error = future.exception(timeout=LIMIT + 60)
    return victim, error, time.monotonic() - stopped


def assert_silence_error(error, host: str):
    assert isinstance(error, ExecutorlabWorkerError), error
    text = str(error)
    assert f"on {host} " in text and "was silent for" in text and "while running write_pid_and_sleep" in text, text
    assert f"the limit is {LIMIT} s" in text, text


def test_a_stopped_worker_fails_its_call_within_the_limit_naming_host_and_silence(bridge, tmp_path):
    with SingleNodeExecutor() as exe:
        victim, error, waited = stop_mid_call(exe, tmp_path, "one")
        assert_silence_error(error, socket.gethostname())
        assert waited < LIMIT + MARGIN, f"failed after {waited:.1f} s"
        # The stopped worker does not linger.
        wait_for(lambda: not pid_alive(victim), 30, "the silent worker to be killed")
        assert exe.submit(add, 1, 2).result(timeout=60) == 3


def test_block_allocation_replaces_a_stopped_worker(bridge, tmp_path):
    with SingleNodeExecutor(max_workers=1, block_allocation=True, restart_limit=1) as exe:
        first = exe.submit(pid).result(timeout=60)
        victim, error, waited = stop_mid_call(exe, tmp_path, "one")
        assert victim == first
        assert_silence_error(error, socket.gethostname())
        assert waited < LIMIT + MARGIN, f"failed after {waited:.1f} s"
        # Replaced (restart_limit=1): later calls run in a new worker.
        assert exe.submit(add, 1, 2).result(timeout=60) == 3
        assert exe.submit(pid).result(timeout=60) != first
        wait_for(lambda: not pid_alive(victim), 30, "the silent worker to be killed")
        # restart_limit used up: the next silent worker is not replaced.
        _, error, _ = stop_mid_call(exe, tmp_path, "two")
        assert_silence_error(error, socket.gethostname())
        error = exe.submit(add, 1, 2).exception(timeout=60)
        assert isinstance(error, ExecutorlabWorkerError) and "restart_limit=1" in str(error)
        assert "was silent for" in str(error), "the last loss is named"


def test_a_call_holding_the_gil_longer_than_the_limit_is_not_silence(bridge):
    with SingleNodeExecutor(max_workers=1, block_allocation=True) as exe:
        took = exe.submit(hold_the_gil, 3 * LIMIT).result(timeout=120)
        assert took > LIMIT, f"the call held the GIL for only {took:.1f} s: the test proves nothing"
        assert exe.submit(add, 1, 2).result(timeout=60) == 3


@pytest.mark.parametrize("value", ["0.5", "-1", "ten"])
def test_a_bad_silence_limit_is_refused_with_a_clear_error(tmp_path, value):
    result = subprocess.run(
        bridge_process.bridge_command(str(tmp_path / "b.json"), f"--worker-silence-limit={value}"),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "--worker-silence-limit must be 0 (never) or a number of seconds of at least 1" in result.stderr
