"""The batch envelope on every socket and block-allocation prefetch (calls given ahead) with the real bridge."""

import json
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

import cloudpickle
import pytest

from executorlab import ExecutorlabWorkerError, SingleNodeExecutor
from executorlab.client.connection import _python_path
from executorlab.protocol import BIG_BLOB, MAX_BATCH, batch, encode, unbatch
from executorlab.tests.conftest import raw_client_socket, run_client, wait_for


# ---- functions the workers run (module level: pickled by reference)


def double(i):
    return 2 * i


def pid():
    return os.getpid()


def pid_after(seconds, path):
    """Say we started (our pid in `path`), sleep, return our pid."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def must_not_run(path):
    Path(path).touch()
    return os.getpid()


def killed_after(seconds, path):
    """Sleep, then die by SIGKILL, as a crash would."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
    os.kill(os.getpid(), signal.SIGKILL)


def append(path, item):
    with open(path, "a") as f:
        f.write(f"{item}\n")
    return item


def append_and_die(path):
    """Leave a line (how many times this ran), then SIGKILL this worker at once."""
    append(path, os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


def lines(path: Path) -> list:
    return path.read_text().split() if path.exists() else []


def bridge_api(exe, path: str):
    """GET the HTTP API of the bridge behind `exe` (a private bridge has one too)."""
    info = exe._client.info
    request = urllib.request.Request(f"{info['http_url']}{path}")
    request.add_header("Authorization", f"token {info['token']}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def bridge_tasks(exe, fn_name: str) -> list:
    return [t for t in bridge_api(exe, "/api/tasks")["tasks"] if t["fn_name"] == fn_name]


def warm_up(exe, n: int = 50) -> int:
    """Trivial calls, so the pool knows its worker is fast and gives it calls ahead; the worker's pid."""
    assert list(exe.map(double, range(n))) == [2 * i for i in range(n)]
    return exe.submit(pid).result(timeout=60)


# ---- the wire format, Python side


def small(i):
    return ({"type": "result", "task_id": f"s{i}", "ok": True, "runtime": 0.0}, [f"r{i}".encode()])


def big(i, size=BIG_BLOB):
    return ({"type": "result", "task_id": f"b{i}", "ok": True, "runtime": 0.0}, [bytes([i]) * size])


def is_batch(frames) -> bool:
    return json.loads(frames[0])["type"] == "batch"


def received(messages) -> list:
    """What the peer gets: every ZeroMQ message unpacked, in order."""
    return [item for frames in messages for item in unbatch(frames)]


def test_one_message_goes_plain():
    header = {"type": "result", "task_id": "t1", "ok": True, "runtime": 0.1}
    [frames] = batch([(header, [b"value", b"more"])])
    assert frames == [encode(header), b"value", b"more"], "no batch envelope around a single message"
    assert unbatch(frames) == [({"v": 1, **header}, [b"value", b"more"])]
    assert batch([]) == []


def test_a_long_run_of_messages_is_cut_into_batches_of_max_batch():
    messages = [({"type": "cancel", "task_id": f"t{i}"}, [b"x"]) for i in range(2 * MAX_BATCH + 1)]
    out = batch(messages)
    assert [len(unbatch(frames)) for frames in out] == [MAX_BATCH, MAX_BATCH, 1]
    assert [m["task_id"] for frames in out for m, _ in unbatch(frames)] == [f"t{i}" for i in range(2 * MAX_BATCH + 1)]


def test_several_messages_become_one_batch_of_two_frames():
    messages = [({"type": "submit", "task_id": "a"}, [b"fa", b"argsa"]), ({"type": "heartbeat"}, []), ({"type": "cancel", "task_id": "b"}, [b"x"])]
    [frames] = batch(messages)
    assert len(frames) == 2, "header and blob frame, however many blobs"
    envelope = json.loads(frames[0])
    assert envelope["type"] == "batch" and envelope["v"] == 1
    assert envelope["blobs"] == [[2, 5], [], [1]], "per message: the byte lengths of its blobs"
    assert all(header["v"] == 1 for header in envelope["messages"]), "every header inside carries the version"
    assert frames[1] == b"faargsax", "blobs back to back in message order"
    assert [(h["type"], blobs) for h, blobs in unbatch(frames)] == [("submit", [b"fa", b"argsa"]), ("heartbeat", []), ("cancel", [b"x"])]


def test_messages_without_blobs_and_empty_blobs():
    [frames] = batch([({"type": "heartbeat"}, []), ({"type": "bye"}, [])])
    assert len(frames) == 2 and frames[1] == b"" and json.loads(frames[0])["blobs"] == [[], []]
    assert [(h["type"], blobs) for h, blobs in unbatch(frames)] == [("heartbeat", []), ("bye", [])]
    # A zero-length blob is listed and kept.
    [frames] = batch([({"type": "x"}, [b""]), ({"type": "y"}, [b"1", b""]), ({"type": "z"}, [])])
    assert json.loads(frames[0])["blobs"] == [[0], [1, 0], []] and frames[1] == b"1"
    assert [blobs for _, blobs in unbatch(frames)] == [[b""], [b"1", b""], []]


def test_a_message_with_a_big_blob_travels_alone_and_the_order_is_kept():
    assert BIG_BLOB == 64 * 1024
    messages = [small(0), small(1), big(2), small(3)]
    out = batch(messages)
    assert [is_batch(frames) for frames in out] == [True, False, False], "batch, plain big one, plain last one"
    assert out[1] == [encode(messages[2][0]), messages[2][1][0]]
    assert out[1][1] is messages[2][1][0], "the big blob is not copied"
    assert [(h["task_id"], blobs) for h, blobs in received(out)] == [(h["task_id"], blobs) for h, blobs in messages]
    # One byte less stays in a batch; big ones in a row each go alone; a big one first or last.
    edge = [big(0, BIG_BLOB - 1), small(1), big(2), big(3, BIG_BLOB + 1), small(4), small(5), big(6)]
    out = batch(edge)
    assert [is_batch(frames) for frames in out] == [True, False, False, True, False]
    assert [(h["task_id"], blobs) for h, blobs in received(out)] == [(h["task_id"], blobs) for h, blobs in edge]
    # A big blob takes the other blobs of its message along, in order.
    [alone] = batch([({"type": "task", "task_id": "m"}, [b"fn", b"\0" * BIG_BLOB, b""])])
    assert [len(frame) for frame in alone[1:]] == [2, BIG_BLOB, 0]


HB = {"v": 1, "type": "heartbeat"}


@pytest.mark.parametrize(
    "blobs, frames, problem",
    [
        ([[1], [1]], [b"x"], "add up to 2 bytes but the blob frame has 1"),
        ([[], []], [b"x"], "add up to 0 bytes but the blob frame has 1"),
        ([[2], [-1]], [b"x"], "integers >= 0, got -1"),  # a negative length that makes the sum fit
        ([[0.5], [0.5]], [b"x"], "integers >= 0, got 0.5"),
        ([[True], []], [b"x"], "integers >= 0, got True"),
        ([["1"], []], [b"x"], "integers >= 0, got '1'"),
        ([[None], []], [b""], "integers >= 0, got None"),
        ([1, 0], [b"x"], 'must list the blob lengths of each message'),  # the old format's counts
        ([[], {}], [b""], 'must list the blob lengths of each message'),
        ([[]], [b""], '"messages" and "blobs" must be lists of the same length'),
        ([[], [], []], [b""], '"messages" and "blobs" must be lists of the same length'),
        (None, [b""], '"messages" and "blobs" must be lists of the same length'),
        ([[], []], [], "a batch is 2 frames (header, blobs), got 1"),
        ([[], []], [b"", b""], "a batch is 2 frames (header, blobs), got 3"),
        ([[1], [1]], [b"x", b"y"], "a batch is 2 frames (header, blobs), got 3"),  # the old format: a frame per blob
    ],
)
def test_unbatch_refuses_blob_lengths_that_do_not_describe_the_blob_frame(blobs, frames, problem):
    header = encode({"type": "batch", "messages": [HB, HB], "blobs": blobs})
    # The client (client/connection.py _dispatch) and the worker catch ValueError.
    with pytest.raises(ValueError) as error:
        unbatch([header, *frames])
    assert problem in str(error.value)


# ---- throughput path: many calls, all batched


def test_three_thousand_trivial_calls_on_two_block_workers():
    with SingleNodeExecutor(max_workers=2, block_allocation=True) as exe:
        futures = [exe.submit(double, i) for i in range(3000)]
        assert [f.result(timeout=120) for f in futures] == [2 * i for i in range(3000)]
        assert list(exe.map(double, range(3000))) == [2 * i for i in range(3000)]
        tasks = bridge_api(exe, "/api/tasks")["tasks"]
        assert sum(t["fn_name"] == "double" and t["state"] == "done" for t in tasks) >= 3000


def sized(n):
    return b"x" * n


def test_results_small_and_big_come_back_intact_and_in_order():
    """Small results reach the client in batches, a result of BIG_BLOB bytes or more on its own in between."""
    sizes = [10, 20, BIG_BLOB, 30, BIG_BLOB - 1, 3 * BIG_BLOB, 0, 40] * 5
    with SingleNodeExecutor(max_workers=1, block_allocation=True) as exe:
        warm_up(exe)
        futures = [exe.submit(sized, n) for n in sizes]
        assert [len(f.result(timeout=60)) for f in futures] == sizes
        assert [len(b) for b in exe.map(sized, sizes)] == sizes


# ---- prefetch: cancel, worker death


def test_cancelling_a_call_given_ahead_drops_it_and_keeps_the_worker(tmp_path):
    marker = tmp_path / "must-not-exist"
    started = tmp_path / "started"
    with SingleNodeExecutor(max_workers=1, block_allocation=True) as exe:
        warm_up(exe)
        slow = exe.submit(pid_after, 1.0, str(started))
        quick = [exe.submit(pid), exe.submit(pid), exe.submit(must_not_run, str(marker)), exe.submit(pid), exe.submit(pid)]
        worker = int(wait_for(lambda: started.exists() and started.read_text(), 30, "the slow call to start"))
        # A call still running 1 ms after it started is announced to the client (future.running()).
        wait_for(slow.running, 10, "the slow call's running notice")
        # Given ahead to the worker, the calls are still queued: the client's futures are pending, so
        # future.cancel() is the way (it sends the bridge a cancel; a running future could not be cancelled).
        assert not any(f.running() or f.done() for f in quick)
        assert quick[2].cancel()
        wait_for(lambda: [t["state"] for t in bridge_tasks(exe, "must_not_run")] == ["cancelled"], 30, "the bridge to cancel it")
        assert not slow.done(), "cancelled while the slow call still ran"
        assert slow.result(timeout=60) == worker, "the worker was not killed"
        assert [f.result(timeout=60) for i, f in enumerate(quick) if i != 2] == [worker] * 4
        assert quick[2].cancelled()
        assert exe.submit(pid).result(timeout=60) == worker
    assert not marker.exists(), "the dropped call never ran"


def test_a_worker_killed_with_calls_given_ahead_fails_only_its_call(tmp_path):
    with SingleNodeExecutor(max_workers=1, block_allocation=True, restart_limit=1) as exe:
        first = warm_up(exe)
        doomed = exe.submit(killed_after, 0.5, str(tmp_path / "doomed"))
        after = [exe.submit(double, i) for i in range(10)]
        error = doomed.exception(timeout=60)
        assert isinstance(error, ExecutorlabWorkerError)
        assert "SIGKILL" in str(error) and "killed_after" in str(error)
        assert [f.result(timeout=60) for f in after] == [2 * i for i in range(10)]
        second = exe.submit(pid).result(timeout=60)
        assert second != first, "the calls after it ran on the restarted worker"


def test_calls_given_ahead_of_a_killed_worker_run_in_submission_order(tmp_path):
    log = tmp_path / "order"
    with SingleNodeExecutor(max_workers=1, block_allocation=True, restart_limit=1) as exe:
        warm_up(exe)
        doomed = exe.submit(killed_after, 0.5, str(tmp_path / "doomed"))
        after = [exe.submit(append, str(log), i) for i in range(6)]
        assert isinstance(doomed.exception(timeout=60), ExecutorlabWorkerError)
        assert [f.result(timeout=60) for f in after] == list(range(6))
    # One worker runs its calls in the order they were submitted, also after a restart.
    assert lines(log) == [str(i) for i in range(6)]


def test_a_call_that_finished_just_before_its_worker_died_keeps_its_result(tmp_path):
    """With calls queued, the worker waits until ZeroMQ has taken a result before it starts the next call: a
    result must not die with a worker killed by the call after it (nor turn into a failure), and the call
    that killed the worker must not run again on the next one."""
    done_log, crash_log = tmp_path / "done", tmp_path / "crash"
    with SingleNodeExecutor(max_workers=1, block_allocation=True, restart_limit=1) as exe:
        warm_up(exe)
        # While this runs, the calls below reach the worker together, all given ahead.
        gate = exe.submit(pid_after, 0.5, str(tmp_path / "gate"))
        done = exe.submit(append, str(done_log), "done")
        crash = exe.submit(append_and_die, str(crash_log))
        after = [exe.submit(double, i) for i in range(3)]
        gate.result(timeout=60)
        error = crash.exception(timeout=60)
        assert lines(done_log) == ["done"], "it ran, once"
        assert done.exception(timeout=60) is None, f"it finished before the worker died: {done.exception()}"
        assert isinstance(error, ExecutorlabWorkerError) and "SIGKILL while running append_and_die" in str(error)
        assert len(lines(crash_log)) == 1, "the call that killed its worker ran once, not again on the restarted worker"
        assert [f.result(timeout=60) for f in after] == [0, 2, 4]


# ---- malformed batches from a client


def receive(socket, count: int) -> list:
    """The next `count` messages from the bridge, unpacked from however many batches they came in."""
    out = []
    while len(out) < count:
        out.extend(unbatch(socket.recv_multipart()))
    return out


HEARTBEAT = {"v": 1, "type": "heartbeat"}


def raw_batch(messages, blobs, frames=(b"",), **header):
    """A batch as a peer could write it: the envelope, then `frames` (by default an empty blob frame)."""
    return [json.dumps({"v": 1, "type": "batch", "messages": messages, "blobs": blobs, **header}).encode(), *frames]


def test_malformed_batches_get_an_error_naming_the_problem_and_the_bridge_goes_on(standalone_bridge):
    hello = {"v": 1, "type": "hello", "client_id": "raw-batch", "pid": os.getpid(), "python": sys.executable, "kernel_id": None, "pythonpath": []}
    two = [HEARTBEAT, HEARTBEAT]
    malformed = [
        (raw_batch(two, [[1], [1]], [b"x"]), "the blob lengths add up to 2 bytes but the blob frame has 1"),
        (raw_batch(two, [[], []], [b"x"]), "add up to 0 bytes but the blob frame has 1"),
        (raw_batch(two, [[2], [-1]], [b"x"]), "every blob length must be an integer >= 0"),
        (raw_batch(two, [[0.5], [0.5]], [b"x"]), "every blob length must be an integer >= 0"),
        (raw_batch(two, [[True], []], [b"x"]), "every blob length must be an integer >= 0"),
        (raw_batch(two, [["1"], []], [b"x"]), "every blob length must be an integer >= 0"),
        # The old format: blob counts, one frame per blob.
        (raw_batch(two, [1, 1], [b"x", b"y"]), "it is 2 frames (header, blobs), got 3"),
        (raw_batch(two, [1, 0], [b"x"]), '"blobs" must list the blob lengths of each message'),
        (raw_batch(two, [[], []], ()), "it is 2 frames (header, blobs), got 1"),
        (raw_batch(two, [[], []], (b"", b"")), "it is 2 frames (header, blobs), got 3"),
        (raw_batch(two, [[]]), '"blobs" must list the blob lengths of each message'),
        (raw_batch([HEARTBEAT], [[], []]), '"blobs" must list the blob lengths of each message'),
        (raw_batch([], []), '"messages" must hold 1 to 10000 headers'),
        (raw_batch([HEARTBEAT] * 10_001, [[]] * 10_001), '"messages" must hold 1 to 10000 headers'),
        (raw_batch([HEARTBEAT], [[]], v=2), "unsupported protocol version 2"),
        # A hello inside a refused batch is not taken: nothing of a malformed batch is handled.
        (raw_batch([hello, HEARTBEAT], [[], []], [b"stray"]), "add up to 0 bytes but the blob frame has 5"),
    ]
    context, socket = raw_client_socket(standalone_bridge.info)
    try:
        for frames, problem in malformed:
            socket.send_multipart(frames)
            [(reply, blobs)] = receive(socket, 1)
            assert reply["type"] == "error", reply
            assert problem in reply["message"], (problem, reply)
        # Each malformed batch got exactly one answer: the next message is answered by the next reply.
        socket.send_multipart(raw_batch([HEARTBEAT, hello], [[], []]))
        replies = receive(socket, 2)
        assert [r["type"] for r, _ in replies] == ["error", "welcome"]
        assert "say hello before heartbeat" in replies[0][0]["message"]
    finally:
        socket.close()
        context.term()
    kernel = run_client(
        "from executorlab import SingleNodeExecutor\n"
        "with SingleNodeExecutor(max_workers=1, block_allocation=True) as exe:\n"
        "    print(sum(exe.map(abs, range(-50, 0))))\n",
        standalone_bridge.env,
    )
    assert kernel.returncode == 0, kernel.stderr
    assert kernel.stdout.strip() == str(sum(range(1, 51)))


def test_a_plain_header_over_one_mebibyte_is_refused(standalone_bridge):
    """PROTOCOL.md: frame 0 is at most 1 MiB (only a batch envelope may be larger)."""
    dependencies = [f"t-{i:012d}" for i in range(100_000)]
    header = encode({"type": "submit", "task_id": "t-big", "executor_id": "e", "fn_name": "f", "resource_dict": {}, "dependencies": dependencies})
    assert len(header) > 1 << 20
    context, socket = raw_client_socket(standalone_bridge.info)
    try:
        socket.send_multipart([header, b"fn", b"arguments"])
        [(reply, _)] = receive(socket, 1)
    finally:
        socket.close()
        context.term()
    assert reply["type"] == "error" and f"header of {len(header)} bytes exceeds 1048576" in reply["message"], reply


def test_a_raw_batch_of_hello_create_and_submits_with_two_blobs(standalone_bridge):
    """submit carries two blobs (the function, then (args, kwargs) as one pickle); a batch may hold a whole session."""
    hello = {"v": 1, "type": "hello", "client_id": "raw-session", "pid": os.getpid(), "python": sys.executable, "kernel_id": None, "pythonpath": _python_path()}
    create = {
        "v": 1, "type": "create_executor", "request_id": "r1", "executor_id": "e-raw", "name": "SingleNodeExecutor",
        "backend": "local", "options": {"max_workers": 1, "block_allocation": True},
    }

    def submit(task_id):
        return {"v": 1, "type": "submit", "task_id": task_id, "executor_id": "e-raw", "fn_name": "sum", "resource_dict": {}, "dependencies": []}

    fn, arguments = cloudpickle.dumps(sum), cloudpickle.dumps((([1, 2, 3],), {}))
    large = cloudpickle.dumps(((b"\x01" * 100_000,), {}))
    assert len(large) >= BIG_BLOB
    messages = batch([
        (hello, []),
        (create, []),
        (submit("t-ok"), [fn, arguments]),
        (submit("t-three"), [fn, arguments, b"kwargs"]),
        (submit("t-big"), [fn, large]),
        (submit("t-ok2"), [fn, cloudpickle.dumps((([4],), {"start": 10}))]),
    ])
    assert [json.loads(frames[0])["type"] for frames in messages] == ["batch", "submit", "submit"], "the big call alone, in order"
    context, socket = raw_client_socket(standalone_bridge.info)
    try:
        for frames in messages:
            socket.send_multipart(frames)
        results, kinds = {}, []
        deadline = time.monotonic() + 60
        while len(results) < 4 and time.monotonic() < deadline:
            # The standalone bridge forgets a client silent for 2 s: keep talking while the worker starts.
            if not socket.poll(500):
                socket.send_multipart([encode({"type": "heartbeat"})])
                continue
            for message, blobs in unbatch(socket.recv_multipart()):
                kinds.append(message["type"])
                if message["type"] == "result":
                    results[message["task_id"]] = (message, blobs)
                elif message["type"] == "reply":
                    assert message["ok"], message
        socket.send_multipart([encode({"type": "bye"})])
    finally:
        socket.close()
        context.term()
    assert kinds[:2] == ["welcome", "reply"], kinds
    assert cloudpickle.loads(results["t-ok"][1][0]) == 6
    assert cloudpickle.loads(results["t-ok2"][1][0]) == 14
    assert cloudpickle.loads(results["t-big"][1][0]) == 100_000
    refused = results["t-three"][0]
    assert not refused["ok"] and "submit carries 3 blobs; it needs exactly 2" in refused["error_message"]
