"""The worker's main loop: ``python -m executorlab.worker --bridge-file F --worker-id W [--worker-index N]``.

Rank 0 talks to the bridge; under ``mpiexec`` every rank runs the function and rank 0 returns the list
of all ranks' results, as executorlib does; what a task prints on any rank reaches the caller, each line
starting with ``[<rank>] `` (``executorlab.worker.output``). A worker of a block allocation first runs the
executor's init_function (on every rank); its dict, with ``executorlib_worker_id``, is the worker's memory.
"""

import argparse
import collections
import inspect
import json
import os
import reprlib
import socket
import sys
import threading
import time
import traceback
import types

import cloudpickle
import zmq

from executorlab import transport
from executorlab.brief import brief
from executorlab.worker.arguments import loads_arguments
from executorlab.worker.journal import Journal
from executorlab.protocol import encode, unbatch
from executorlab.worker.output import RankOutput, StreamForwarder

# Seconds between two heartbeats (CPU time and memory of this process, for the bridge's usage view).
HEARTBEAT_INTERVAL = 2.0
# An idle worker's receive gives up after this long (ms) to send a heartbeat that is due: the heartbeat
# thread never touches the socket while the main thread waits on it (ZeroMQ sockets are not thread-safe).
IDLE_RECEIVE_MS = 500
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _rss() -> int:
    """Resident memory of this process in bytes: /proc/self/statm, else the peak from getrusage."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        try:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return peak if sys.platform == "darwin" else peak * 1024  # KiB on Linux, bytes on macOS
        except Exception:
            return 0


def _mpi_world():
    """mpi4py's COMM_WORLD when started by an MPI launcher with more than one rank, else None."""
    size_vars = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS")
    if not any(int(os.environ.get(v, "1") or 1) > 1 for v in size_vars):
        return None
    from mpi4py import MPI

    # Functions and results travel between ranks the way they travel to the bridge: by cloudpickle.
    MPI.pickle.__init__(cloudpickle.dumps, cloudpickle.loads)
    return MPI.COMM_WORLD if MPI.COMM_WORLD.Get_size() > 1 else None


def _parameter_names(fn):
    """(names that positional arguments fill, names a keyword can fill) of ``fn``.

    Read from the code object when there is one: ``inspect.signature`` costs ~0.2 ms for a builtin and
    this runs for every call on a block-allocation worker.
    """
    method_self = inspect.ismethod(fn)
    code = getattr(fn.__func__ if method_self else fn, "__code__", None)
    if code is not None:
        names = code.co_varnames
        positional = names[: code.co_argcount]
        named = names[code.co_posonlyargcount : code.co_argcount + code.co_kwonlyargcount]
        if method_self:  # the bound instance fills the first positional parameter
            positional, named = positional[1:], tuple(n for n in named if n != names[0])
        return positional, named
    if isinstance(fn, types.BuiltinFunctionType):
        return (), ()  # builtins take nothing from memory
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # callables without a signature take nothing from memory
        return (), ()
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return positional, named


def _with_memory(fn, args: tuple, kwargs: dict, memory: dict) -> dict:
    """executorlib's worker memory: an entry becomes a keyword argument when ``fn`` has a parameter of that
    name (positional-or-keyword or keyword-only) that the caller did not pass."""
    if not memory:
        return kwargs
    positional, named = _parameter_names(fn)
    supplied = set(kwargs) | set(positional[: len(args)])
    extra = {name: memory[name] for name in named if name in memory and name not in supplied}
    return {**kwargs, **extra} if extra else kwargs


def _call(fn, args, kwargs, memory=None):
    """(True, value) or (False, (exception, traceback text))."""
    try:
        return True, fn(*args, **_with_memory(fn, args, kwargs, memory or {}))
    except BaseException as error:  # the function's own failure is a result to report, whatever it is
        return False, (error, traceback.format_exc())


class Worker:
    """Rank 0's connection to the bridge.

    The bridge may send the next tasks before the current one is done (when tasks are short): the worker
    queues them and takes back the ones the bridge drops. Each result leaves as soon as it is known;
    the journal tells the bridge which task ran if the process dies (``executorlab.worker.journal``).
    """

    def __init__(self, credentials: dict, worker_id: str, journal: Journal = None, output_prefix: str = None):
        self.worker_id = worker_id
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 5000)
        # Unique per bridge whichever socket (IPC, TCP) it arrives on: the bridge answers by routing id.
        self.socket.setsockopt(zmq.ROUTING_ID, f"w-{worker_id}".encode())
        endpoint = transport.connect(self.socket, credentials, "worker_endpoint", "worker_ipc_endpoint",
                                     credentials["public_key"], credentials["secret_key"])
        # Which way this worker reached the bridge (IPC here, TCP with CURVE from another node).
        os.environ["EXECUTORLAB_WORKER_ENDPOINT"] = endpoint
        # A task's threads may print (and so send) while the main thread uses the socket.
        self.lock = threading.Lock()
        self.queue = collections.deque()
        self.journal = journal
        # What a task prints is sent as its output (task_id: the task running); output_prefix starts each
        # line (MPI: "[0] ").
        self.task_id = None
        forward = lambda name, text: self.send({"type": "stream", "task_id": self.task_id, "name": name, "text": text})
        self.stdout = StreamForwarder("stdout", forward, prefix=output_prefix)
        self.stderr = StreamForwarder("stderr", forward, prefix=output_prefix)
        # Heartbeats (start_heartbeats): the main thread says when it waits in a receive (then only it may
        # use the socket, and it sends a due heartbeat itself); the thread sends while the main thread runs
        # a task. Both take the lock, which is held only for one non-blocking send.
        self.host = socket.gethostname()
        self.receiving = False
        self.closed = False
        self.last_heartbeat = time.monotonic()
        self._stop_heartbeats = threading.Event()
        self._heartbeats = None
        self.socket.setsockopt(zmq.RCVTIMEO, IDLE_RECEIVE_MS)
        self._start_echo(credentials, worker_id)

    def _start_echo(self, credentials: dict, worker_id: str) -> None:
        """A second socket whose messages from the bridge go straight back, sent by libzmq (zmq_proxy) in a
        thread that runs without the GIL: the bridge hears from a worker whose main thread holds the GIL in
        a long C call (the heartbeat thread cannot run then), and not from one that is stopped or whose node
        is gone (the bridge's --worker-silence-limit). Its first message says whose echo socket it is."""
        echo = self.context.socket(zmq.DEALER)
        echo.setsockopt(zmq.LINGER, 0)
        echo.setsockopt(zmq.ROUTING_ID, f"e-{worker_id}".encode())
        transport.connect(echo, credentials, "worker_endpoint", "worker_ipc_endpoint",
                          credentials["public_key"], credentials["secret_key"])
        echo.send(encode({"type": "echo", "worker_id": worker_id}))

        def run():
            try:
                zmq.proxy(echo, echo)  # returns when the context is terminated (close())
            except zmq.ZMQError:
                pass
            finally:
                echo.close(linger=0)

        threading.Thread(target=run, name="executorlab-echo", daemon=True).start()

    def send(self, message: dict, *blobs: bytes) -> None:
        with self.lock:
            self.socket.send_multipart([encode(message), *blobs])

    def send_result(self, message: dict, *blobs: bytes) -> None:
        """Send a task's outcome, and keep it for the journal (a task that kills the process may take
        the message along before ZeroMQ's I/O thread sent it)."""
        header = encode(message)
        with self.lock:
            self.socket.send_multipart([header, *blobs])
        if self.journal is not None:
            self.journal.result(header, blobs)

    def start_heartbeats(self) -> None:
        """Send a heartbeat now (after hello), then every HEARTBEAT_INTERVAL seconds from a daemon thread."""
        self.heartbeat(main_thread=True)
        self._heartbeats = threading.Thread(target=self._heartbeat_loop, name="executorlab-heartbeat", daemon=True)
        self._heartbeats.start()

    def _heartbeat_loop(self) -> None:
        while not self._stop_heartbeats.wait(max(0.25, self.last_heartbeat + HEARTBEAT_INTERVAL - time.monotonic())):
            if time.monotonic() - self.last_heartbeat >= HEARTBEAT_INTERVAL:
                self.heartbeat(main_thread=False)

    def heartbeat(self, main_thread: bool) -> None:
        """Send `heartbeat {cpu_seconds, rss, host, pid}`; skipped (the main thread sends it) while the main
        thread waits on the socket, and dropped rather than waited for when the socket cannot take it."""
        times = os.times()
        header = encode({"type": "heartbeat", "cpu_seconds": times.user + times.system, "rss": _rss(),
                         "host": self.host, "pid": os.getpid()})
        with self.lock:
            if self.closed or (self.receiving and not main_thread):
                return
            self.last_heartbeat = time.monotonic()
            try:
                self.socket.send(header, zmq.NOBLOCK)
            except zmq.Again:
                pass

    def _wait_for_message(self):
        """Frames of the next message, or None when none came within IDLE_RECEIVE_MS (a due heartbeat is sent)."""
        with self.lock:
            self.receiving = True
        try:
            return self.socket.recv_multipart()
        except zmq.Again:
            pass
        finally:
            self.receiving = False
        if time.monotonic() - self.last_heartbeat >= HEARTBEAT_INTERVAL and self._heartbeats is not None:
            self.heartbeat(main_thread=True)
        return None

    def next_message(self):
        """The next (header, blobs) to handle, waiting for one when none is queued; drops are applied.
        None when nothing came for a while (the caller asks again)."""
        if not self.queue:
            frames = self._wait_for_message()
            if frames is not None:
                self._receive(frames)
        with self.lock:
            while self.socket.poll(0, zmq.POLLIN):
                self._receive(self.socket.recv_multipart())
        return self.queue.popleft() if self.queue else None

    def _receive(self, frames: list) -> None:
        for message, blobs in unbatch(frames):
            if message["type"] == "drop":
                for item in self.queue:
                    if item[0].get("task_id") == message["task_id"]:
                        self.queue.remove(item)
                        break
            else:
                self.queue.append((message, blobs))

    def close(self) -> None:
        self._stop_heartbeats.set()
        with self.lock:
            self.closed = True
        if self._heartbeats is not None:
            self._heartbeats.join(1)
        self.socket.close()
        self.context.term()
        if self.journal is not None:
            self.journal.close()


def _failure(task_id: str, runtime: float, error: BaseException, tb: str):
    return _failure_message({"type": "result", "task_id": task_id, "ok": False, "runtime": runtime}, error, tb)


# Characters of a failure's message and traceback (its end) that travel: a header is at most 1 MiB
# and JSON may spend 12 bytes on a character.
MAX_ERROR_MESSAGE = 20_000
MAX_TRACEBACK = 60_000


def _failure_message(header: dict, error: BaseException, tb: str):
    header = {
        **header,
        "error_type": type(error).__name__[:256],
        "error_message": str(error)[:MAX_ERROR_MESSAGE],
        "traceback": tb[-MAX_TRACEBACK:],
    }
    try:
        return header, [cloudpickle.dumps(error)]
    except Exception:  # an exception that cannot be pickled still reaches the caller as text
        return header, []


def _load_and_call(blobs: list, dependencies: list, memory: dict):
    """Unpickle the call, put the dependencies' results where the arguments referred to them, run it."""
    try:
        results = {task_id: cloudpickle.loads(blob) for task_id, blob in zip(dependencies, blobs[2:])}
        fn = cloudpickle.loads(blobs[0])
        args, kwargs = loads_arguments(blobs[1], results)
    except BaseException as error:
        return False, (error, traceback.format_exc())
    return _call(fn, args, kwargs, memory)


def _load_and_init(blob: bytes, memory: dict):
    """Call the init_function; the dict it returns joins the worker's memory. (True, None) or a failure."""
    try:
        init_function = cloudpickle.loads(blob)
    except BaseException as error:
        return False, (error, traceback.format_exc())
    ok, value = _call(init_function, (), {}, memory)
    if not ok:
        return ok, value
    if not isinstance(value, dict):
        error = TypeError(
            "init_function must return a dict, whose entries become keyword arguments of the calls; "
            f"it returned {type(value).__name__}"
        )
        return False, (error, "".join(traceback.format_exception_only(type(error), error)))
    memory.update(value)
    return True, None


def run_init(worker, comm, blob: bytes, memory: dict) -> None:
    """Run the init_function on every rank and tell the bridge how it went (the first rank's failure)."""
    if comm is None:
        ok, value = _load_and_init(blob, memory)
    else:
        comm.bcast(("init", blob), root=0)
        outcomes = comm.gather(_load_and_init(blob, memory), root=0)
        failed = [outcome for outcome in outcomes if not outcome[0]]
        ok, value = failed[0] if failed else (True, None)
    if ok:
        worker.send({"type": "init_result", "ok": True})
    else:
        header, extra = _failure_message({"type": "init_result", "ok": False}, *value)
        worker.send(header, *extra)


def run_task(worker, comm, task_id: str, blobs: list, dependencies: list, memory: dict, summarize: bool = False) -> None:
    started = time.perf_counter()
    worker.task_id = task_id
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = worker.stdout, worker.stderr
    try:
        if comm is None:
            ok, value = _load_and_call(blobs, dependencies, memory)
        else:
            comm.bcast(("task", blobs, dependencies, task_id), root=0)
            outcomes = comm.gather(_load_and_call(blobs, dependencies, memory), root=0)
            failed = [outcome for outcome in outcomes if not outcome[0]]
            ok, value = failed[0] if failed else (True, [outcome[1] for outcome in outcomes])
    finally:
        sys.stdout, sys.stderr = saved
        worker.stdout.finish()
        worker.stderr.finish()
    runtime = time.perf_counter() - started
    if ok:
        try:
            blob = cloudpickle.dumps(value)
        except Exception as error:
            header, extra = _failure(task_id, runtime, error, f"the result could not be pickled:\n{traceback.format_exc()}")
            worker.send_result(header, *extra)
            return
        header = {"type": "result", "task_id": task_id, "ok": True, "runtime": runtime, "brief": brief(value)}
        if summarize:  # a cached call: its file shows what the result is without unpickling it
            header["summary"] = _summary(value)
        worker.send_result(header, blob)
    else:
        header, extra = _failure(task_id, runtime, *value)
        worker.send_result(header, *extra)


_SUMMARY = reprlib.Repr()
_SUMMARY.maxstring = _SUMMARY.maxother = 200


def _summary(value) -> str:
    try:
        return _SUMMARY.repr(value)[:200]
    except Exception:  # a broken __repr__ must not fail the call
        return f"<{type(value).__name__}>"


def follower_loop(comm, memory: dict, output: RankOutput) -> None:
    """Ranks > 0: take each init or task from rank 0, run it, give the outcome back; None ends. What a task
    prints goes to the bridge through ``output``, and has left before the outcome is given back."""
    try:
        while True:
            message = comm.bcast(None, root=0)
            if message is None:
                return
            if message[0] == "init":
                comm.gather(_load_and_init(message[1], memory), root=0)
            else:
                _, blobs, dependencies, task_id = message
                comm.gather(output.run(task_id, _load_and_call, blobs, dependencies, memory), root=0)
    finally:
        output.close()


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="python -m executorlab.worker")
    parser.add_argument("--bridge-file", required=True, help="worker credentials written by the bridge (mode 0600)")
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--journal", help="file telling the bridge which task ran if this worker dies")
    parser.add_argument(
        "--worker-index", type=int, default=0, help="place in a block allocation's pool: executorlib_worker_id"
    )
    options = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    memory = {"executorlib_worker_id": options.worker_index}
    comm = _mpi_world()
    if comm is not None and comm.Get_rank() > 0:
        follower_loop(comm, memory, RankOutput(options.bridge_file, options.worker_id, comm.Get_rank()))
        return 0
    with open(options.bridge_file, encoding="utf-8") as f:
        credentials = json.load(f)
    worker = Worker(credentials, options.worker_id, Journal(options.journal) if options.journal else None,
                    output_prefix="[0] " if comm is not None else None)
    try:
        worker.send(
            {
                "type": "hello",
                "worker_id": options.worker_id,
                "ranks": comm.Get_size() if comm is not None else 1,
                "host": socket.gethostname(),
                "pid": os.getpid(),
            }
        )
        worker.start_heartbeats()
        while True:
            item = worker.next_message()
            if item is None:
                continue
            message, blobs = item
            if message["type"] == "shutdown":
                break
            if message["type"] == "init":
                run_init(worker, comm, blobs[0], memory)
            elif message["type"] == "task":
                if worker.journal is not None:
                    worker.journal.started(message["task_id"])
                run_task(worker, comm, message["task_id"], blobs, message.get("dependencies", []), memory,
                         message.get("summarize", False))
    finally:
        if comm is not None:
            comm.bcast(None, root=0)
        worker.close()
    return 0
