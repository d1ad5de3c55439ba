"""Every MPI rank's output reaches the caller, each line starting with ``[<rank>] ``."""

import json
import socket
import sys

import pytest
import zmq

from executorlab.protocol import decode
from executorlab.tests.conftest import StandaloneBridge, run_client
from executorlab.worker.output import RankOutput, StreamForwarder


def forwarder(prefix="[1] ", interval=float("inf")):
    """A forwarder that only sends when flushed (interval: never on a newline alone), and what it sent."""
    sent = []
    return StreamForwarder("stdout", lambda name, text: sent.append(text), interval=interval, prefix=prefix), sent


def test_a_line_written_in_pieces_gets_one_prefix():
    stream, sent = forwarder()
    stream.write("hel")
    stream.write("lo")
    stream.write("\n")
    stream.finish()
    assert "".join(sent) == "[1] hello\n"


def test_print_writes_text_and_newline_separately_and_gets_one_prefix():
    stream, sent = forwarder("[0] ")
    print("a", "b", file=stream)
    print("c", file=stream)
    stream.finish()
    assert "".join(sent) == "[0] a b\n[0] c\n"


def test_several_lines_in_one_write_each_get_the_prefix():
    stream, sent = forwarder()
    stream.write("one\ntwo\n\nfour\n")
    stream.finish()
    assert "".join(sent) == "[1] one\n[1] two\n[1] \n[1] four\n"


def test_a_flush_sends_whole_lines_only_so_ranks_do_not_split_each_others_lines():
    stream, sent = forwarder()
    stream.write("abc")
    stream.flush()
    assert sent == []
    stream.write("def\nghi")
    stream.flush()
    assert sent == ["[1] abcdef\n"]
    stream.write("\n")
    stream.finish()
    assert sent == ["[1] abcdef\n", "[1] ghi\n"]


def test_output_without_a_newline_is_sent_at_the_end_of_the_task_as_a_line_of_its_own():
    stream, sent = forwarder()
    stream.write("no newline")
    assert sent == []
    stream.finish()
    assert sent == ["[1] no newline\n"]
    stream.write("next task\n")
    stream.finish()
    assert sent == ["[1] no newline\n", "[1] next task\n"]


def test_a_line_left_open_is_ended_at_the_end_of_the_task():
    stream, sent = forwarder()
    stream.write("abc")
    stream.flush()
    stream.finish()
    assert sent == ["[1] abc\n"]


def test_empty_writes_and_flushes_send_nothing():
    stream, sent = forwarder()
    stream.write("")
    stream.finish()
    stream.finish()
    assert sent == []


def test_lines_are_sent_while_the_task_runs():
    stream, sent = forwarder(interval=0.0)
    stream.write("first\n")
    assert sent == ["[1] first\n"]


def test_without_a_prefix_text_is_sent_as_written():
    stream, sent = forwarder(prefix=None)
    stream.write("a\nb")
    stream.finish()
    assert sent == ["a\nb"], "one rank: exactly what was written, no newline added"


@pytest.fixture
def fake_bridge(tmp_path):
    """A ROUTER standing in for the bridge's worker endpoint (IPC), and the bridge file naming it."""
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.RCVTIMEO, 10_000)
    endpoint = f"ipc://{tmp_path}/workers"
    router.bind(endpoint)
    bridge_file = tmp_path / "bridge-worker.json"
    bridge_file.write_text(json.dumps({
        "hostname": socket.gethostname(), "worker_ipc_endpoint": endpoint, "worker_endpoint": "tcp://127.0.0.1:1",
        "server_public_key": "", "public_key": "", "secret_key": "",
    }))
    yield router, str(bridge_file)
    router.close(0)
    context.term()


def shout(text):
    print(text)
    print("to stderr", end="", file=sys.stderr)
    return len(text)


def test_a_rank_sends_its_output_on_its_own_socket_naming_the_worker(fake_bridge):
    router, bridge_file = fake_bridge
    output = RankOutput(bridge_file, "w7", 3)
    saved = sys.stdout, sys.stderr
    try:
        assert output.run("t1", shout, "hi") == 2
        assert (sys.stdout, sys.stderr) == saved
        messages = [router.recv_multipart() for _ in range(2)]
    finally:
        output.close()
    assert {peer for peer, _ in messages} == {b"w-w7-r3"}
    headers = sorted((decode(frame) for _, frame in messages), key=lambda m: m["name"])
    assert headers == [
        {"v": 1, "type": "stream", "task_id": "t1", "worker_id": "w7", "name": "stderr", "text": "[3] to stderr\n"},
        {"v": 1, "type": "stream", "task_id": "t1", "worker_id": "w7", "name": "stdout", "text": "[3] hi\n"},
    ]


def test_a_rank_that_prints_nothing_opens_no_socket(fake_bridge):
    _, bridge_file = fake_bridge
    output = RankOutput(bridge_file, "w7", 1)
    assert output.run("t1", len, "quiet") == 5
    assert output._socket is None
    output.close()


def test_a_rank_that_cannot_reach_the_bridge_prints_where_it_did_before(tmp_path, capsys):
    output = RankOutput(str(tmp_path / "missing.json"), "w7", 2)
    output.run("t1", print, "still shown")
    output.close()
    captured = capsys.readouterr()
    assert captured.out == "[2] still shown\n"
    assert "rank 2 could not reach the bridge" in captured.err


MPI_CLIENT = """
import sys
from executorlab import SingleNodeExecutor

def hello():
    from mpi4py import MPI
    rank = MPI.COMM_WORLD.Get_rank()
    print(f"hello from {rank}")
    print(f"warning from {rank}", file=sys.stderr)
    print("partial", end="")
    return rank

with SingleNodeExecutor() as exe:
    future = exe.submit(hello, resource_dict={"cores": 2})
    print("result", future.result(timeout=120))
"""


@pytest.mark.parametrize("transport", ["ipc", "tcp"])
def test_every_rank_prints_to_the_kernel_with_its_rank(tmp_path, monkeypatch, transport):
    if transport == "tcp":  # the way ranks on other nodes connect: TCP with CURVE
        monkeypatch.setenv("EXECUTORLAB_TRANSPORT", "tcp")
    bridge = StandaloneBridge(tmp_path, "--client-timeout", "2")
    try:
        done = run_client(MPI_CLIENT, bridge.env)
        assert done.returncode == 0, done.stderr
        out = done.stdout.splitlines()
        result_line = out.index("result [0, 1]")
        # Every rank's output arrives before the result, as rank 0's own does.
        before = "\n".join(out[:result_line])
        for rank in (0, 1):
            assert f"[{rank}] hello from {rank}" in before
            assert f"[{rank}] warning from {rank}" in done.stderr
            assert f"[{rank}] partial" in before
        (task,) = bridge.tasks("hello")
        status, details = bridge.api(f"/api/tasks/{task['id']}")
        assert status == 200
        assert "[0] hello from 0\n" in details["output"] and "[1] hello from 1\n" in details["output"]
    finally:
        bridge.stop()
