"""Failures outside the function's own exceptions: dead workers, cancellation, lost clients, bad messages."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import CancelledError

import pytest

from executorlab import ExecutorlabWorkerError, SingleNodeExecutor
from executorlab.client.bridge_process import pid_alive
from executorlab.tests.conftest import REPO, raw_client_socket, wait_for


def write_pid_and_sleep(path, seconds):
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(seconds)
    return "finished"


def segfault():
    import ctypes

    return ctypes.string_at(0)


def touch(path):
    open(path, "w").close()
    return path


def raise_long_unicode():
    # JSON writes each "é" as 6 bytes: the message and traceback must be cut to fit a 1 MiB header.
    raise ValueError("é" * 200_000)


def print_a_lot():
    print("x" * 2_000_000)
    return "printed"


def chatty():
    print("line one")
    print("line two", file=sys.stderr)
    return 1


def test_worker_killed_mid_task_fails_its_future_quickly(tmp_path):
    pid_file = tmp_path / "pid"
    with SingleNodeExecutor(max_workers=2) as exe:
        victim = exe.submit(write_pid_and_sleep, str(pid_file), 60)
        other = exe.submit(write_pid_and_sleep, str(tmp_path / "other"), 0.5)
        pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 30, "the worker's pid"))
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        error = victim.exception(timeout=30)
        # "Within a second" on an idle machine; the margin keeps a loaded CI from failing it.
        assert time.monotonic() - killed_at < 5
        assert isinstance(error, ExecutorlabWorkerError) and "SIGKILL" in str(error)
        assert other.result(timeout=30) == "finished"


def test_segfaulting_function_names_the_signal():
    with SingleNodeExecutor() as exe:
        error = exe.submit(segfault).exception(timeout=60)
    assert isinstance(error, ExecutorlabWorkerError) and "SIGSEGV" in str(error)


def test_cancelled_queued_future_never_runs(tmp_path):
    with SingleNodeExecutor(max_workers=1) as exe:
        blocker = exe.submit(write_pid_and_sleep, str(tmp_path / "pid"), 1.0)
        queued = exe.submit(touch, str(tmp_path / "must-not-exist"))
        assert queued.cancel()
        assert blocker.result(timeout=30) == "finished"
    assert not (tmp_path / "must-not-exist").exists()


def run_kernel(bridge, code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO), **bridge.env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_cancel_from_the_panel_kills_a_running_task(standalone_bridge, tmp_path):
    pid_file = tmp_path / "pid"
    kernel = run_kernel(
        standalone_bridge,
        "from executorlab import SingleNodeExecutor\n"
        "from concurrent.futures import CancelledError\n"
        f"f = SingleNodeExecutor().submit(__import__('executorlab.tests.test_errors', fromlist=['x']).write_pid_and_sleep, {str(pid_file)!r}, 60)\n"
        "try:\n    f.result(timeout=60)\nexcept CancelledError:\n    print('cancelled')\n",
    )
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 30, "the worker's pid"))
    (task,) = standalone_bridge.tasks("write_pid_and_sleep")
    assert standalone_bridge.api(f"/api/tasks/{task['id']}/cancel", "POST")[0] == 200
    out, err = kernel.communicate(timeout=30)
    assert out.strip() == "cancelled", err
    wait_for(lambda: not pid_alive(pid), 10, "the worker to be gone")
    assert standalone_bridge.tasks("write_pid_and_sleep")[0]["state"] == "cancelled"
    assert standalone_bridge.api(f"/api/tasks/{task['id']}/cancel", "POST")[0] == 409


def test_a_huge_failure_and_huge_output_still_reach_the_caller(capfd):
    """Headers are at most 1 MiB: a worker cuts a failure's text and sends output in pieces."""
    with SingleNodeExecutor(max_workers=1) as exe:
        failed, printed = exe.submit(raise_long_unicode), exe.submit(print_a_lot)
        error = failed.exception(timeout=60)
        assert isinstance(error, ValueError) and str(error) == "é" * 200_000, "the pickled exception is whole"
        assert printed.result(timeout=60) == "printed"
    seen = []  # readouterr() hands out what arrived since the last call
    wait_for(lambda: seen.append(capfd.readouterr().out.count("x")) or sum(seen) >= 2_000_000, 30, "the whole output")
    assert sum(seen) == 2_000_000


def test_output_is_kept_for_the_panel(standalone_bridge):
    kernel = run_kernel(
        standalone_bridge,
        "from executorlab import SingleNodeExecutor\n"
        "from executorlab.tests.test_errors import chatty\n"
        "with SingleNodeExecutor() as exe:\n    exe.submit(chatty).result(timeout=60)\n",
    )
    kernel.communicate(timeout=60)
    (task,) = standalone_bridge.tasks("chatty")
    code, detail = standalone_bridge.api(f"/api/tasks/{task['id']}")
    assert code == 200 and "line one" in detail["output"] and "line two" in detail["output"]
    assert standalone_bridge.api("/api/tasks/t-unknown")[0] == 404


def test_a_dead_kernel_leaves_orphaned_records_and_no_work_behind(standalone_bridge, tmp_path):
    pid_file = tmp_path / "pid"
    kernel = run_kernel(
        standalone_bridge,
        "from executorlab import SingleNodeExecutor\n"
        "from executorlab.tests.test_errors import write_pid_and_sleep, touch\n"
        "exe = SingleNodeExecutor(max_workers=1)\n"
        f"exe.submit(write_pid_and_sleep, {str(pid_file)!r}, 60)\n"
        f"exe.submit(touch, {str(tmp_path / 'never')!r})\n"
        "import time; time.sleep(60)\n",
    )
    worker = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 30, "the worker's pid"))
    kernel.kill()
    kernel.wait()
    final = ("done", "error", "cancelled")
    tasks = wait_for(
        lambda: (ts := standalone_bridge.tasks()) and all(t["orphaned"] and t["state"] in final for t in ts) and ts,
        15,
        "orphaned, finished records",
    )
    assert sorted(t["state"] for t in tasks) == ["cancelled", "cancelled"]
    wait_for(lambda: not pid_alive(worker), 10, "the orphan's worker to be stopped")
    assert not (tmp_path / "never").exists()


def test_garbage_messages_are_refused_and_the_bridge_survives(standalone_bridge):
    context, socket = raw_client_socket(standalone_bridge.info, timeout_ms=5000)
    garbage = [
        [b"\xff\xfe not json"],
        [b'{"v": 1}'],
        [b'{"v": 7, "type": "hello"}'],
        [b'{"v": 1, "type": "submit", "task_id": "t1", "executor_id": "e", "fn_name": "f", "resource_dict": {}}', b"x"],
        [b"[]"],
        [b'{"v": 1, "type": "submit", "task_id": "t2", "executor_id": "nope", "fn_name": "f", "resource_dict": {"cores": -1}}'],
    ]
    replies = []
    for frames in garbage:
        socket.send_multipart(frames)
        replies.append(json.loads(socket.recv_multipart()[0]))
    socket.close()
    context.term()
    assert [r["type"] for r in replies] == ["error", "error", "error", "result", "error", "result"]
    assert "not valid JSON" in replies[0]["message"]
    assert "say hello" in replies[3]["error_message"]
    assert "cores" in replies[5]["error_message"]
    kernel = run_kernel(
        standalone_bridge,
        "from executorlab import SingleNodeExecutor\nwith SingleNodeExecutor() as exe:\n    print(exe.submit(sum, [1, 1]).result())\n",
    )
    out, err = kernel.communicate(timeout=60)
    assert out.strip() == "2", err
