"""One cluster job runs one call: ``python -m executorlab.cache_worker <cache_directory>/<key>_i.h5``.

The SLURM or flux job of a cached call runs this, under ``srun``/``flux run`` with several MPI ranks when
the call asked for more than one core. Rank 0 reads the call from the input file (executorlib's layout)
and puts the results of its dependencies into its arguments (``executorlab.cache_worker.inputs``), every
rank calls the function, and rank 0 writes ``<key>_o.h5`` next to the input (output: the list of all
ranks' return values with more than one rank, as in executorlib; the plain value with one), then removes
the input (``executorlab.cache_worker.outputs``). mpi4py is only imported when the launcher started more
than one rank.

Exit status: 0 when the function ran (a raised exception is the call's result: it is in the file, and its
traceback on stderr), 2 when the call could not start (input file missing, unreadable or not of this
layout; a dependency's result missing or failed) with the reason on stderr, leaving the input in place.
"""

import argparse
import os
import sys
import time
import traceback

import cloudpickle

PROG = "python -m executorlab.cache_worker"
EXIT_INPUT = 2

# Broadcast from rank 0 to the other ranks.
_STOP = None  # the call cannot start: exit with EXIT_INPUT
_SKIP = ("skip",)  # nothing to run (rank 0 could not unpickle the call: that is its result)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description="Run the call stored in a cache input file (<key>_i.h5).")
    parser.add_argument("input_file", help="the call's <cache_directory>/<key>_i.h5, in executorlib's layout")
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)

    from executorlab.worker.loop import _mpi_world

    comm = _mpi_world()
    if comm is not None and comm.Get_rank() > 0:
        return _follower(comm)
    return _leader(comm, options.input_file)


def _leader(comm, path: str) -> int:
    from executorlab.cache_worker.inputs import InputError, output_path, read_call
    from executorlab.cache_worker.outputs import append_error_log, function_label, write_output

    path = os.path.abspath(path)
    try:
        call = read_call(path)
    except BaseException as error:
        if comm is not None:  # the other ranks wait for the call: tell them there is none
            comm.bcast(_STOP, root=0)
        if not isinstance(error, InputError):
            raise
        print(f"{PROG}: {error}", file=sys.stderr, flush=True)
        return EXIT_INPUT

    started = time.perf_counter()
    if call.failure is not None:
        if comm is not None:
            comm.bcast(_SKIP, root=0)
        ok, value = False, call.failure
    else:
        ok, value = _run(comm, call.fn, call.args, call.kwargs)
    runtime = time.perf_counter() - started
    outcome = _outcome(ok, value, runtime)

    function = function_label(call.fn, call.attributes, path)
    if not outcome.ok:
        print(f"{PROG}: {function} ({os.path.basename(path)}) failed:\n{outcome.traceback}", file=sys.stderr, end="",
              flush=True)
        if call.error_log_file is not None:
            try:
                append_error_log(call.error_log_file, call.fn, call.args, call.kwargs, outcome.traceback)
            except OSError as error:
                print(f"{PROG}: could not append to error_log_file {call.error_log_file}: {error}", file=sys.stderr)
    write_output(path, output_path(path), outcome, function)
    return 0


def _run(comm, fn, args, kwargs):
    """(True, value) or (False, (exception, traceback text)) of the call on every rank: the value is the
    list of all ranks' values with more than one rank; the failure is the first rank's that failed."""
    from executorlab.worker.loop import _call

    if comm is None:
        return _call(fn, args, kwargs)
    try:
        blob = cloudpickle.dumps((fn, args, kwargs))
    except Exception as error:
        comm.bcast(_SKIP, root=0)
        return False, (error, f"the call could not be sent to the other MPI ranks:\n{traceback.format_exc()}")
    comm.bcast(("call", blob), root=0)
    own = _call(fn, args, kwargs)
    gathered = comm.gather(None, root=0)
    outcomes = [own]
    for rank, portable in enumerate(gathered[1:], start=1):
        try:
            outcomes.append(cloudpickle.loads(portable))
        except Exception as error:
            outcomes.append((False, (error, f"the outcome of MPI rank {rank} could not be unpickled:\n"
                                            f"{traceback.format_exc()}")))
    failed = [outcome for outcome in outcomes if not outcome[0]]
    return failed[0] if failed else (True, [outcome[1] for outcome in outcomes])


def _follower(comm) -> int:
    """Ranks > 0: run the call rank 0 broadcasts and give back its outcome, pickled (never unpicklable)."""
    from executorlab.worker.loop import _call

    message = comm.bcast(None, root=0)
    if message is _STOP:
        return EXIT_INPUT
    if message[0] != "call":
        return 0
    try:
        fn, args, kwargs = cloudpickle.loads(message[1])
    except BaseException as error:
        outcome = False, (error, traceback.format_exc())
    else:
        outcome = _call(fn, args, kwargs)
    comm.gather(_portable(outcome, comm.Get_rank()), root=0)
    return 0


def _portable(outcome, rank: int) -> bytes:
    try:
        return cloudpickle.dumps(outcome)
    except Exception as error:
        what = "result" if outcome[0] else "exception"
        text = f"the {what} of MPI rank {rank} could not be pickled:\n{traceback.format_exc()}"
        try:
            return cloudpickle.dumps((False, (error, text)))
        except Exception:
            return cloudpickle.dumps((False, (RuntimeError(f"{type(error).__name__}: {error}"), text)))


def _outcome(ok: bool, value, runtime: float):
    """The pickled output, else the pickled error (a result that cannot be pickled fails the call, as in
    executorlib; an exception that cannot be pickled becomes a RuntimeError with its text)."""
    from executorlab.cache_worker.outputs import Outcome, safe_str
    from executorlab.worker.loop import _summary

    if ok:
        try:
            return Outcome(True, cloudpickle.dumps(value), runtime, summary=_summary(value))
        except Exception as error:
            ok, value = False, (error, f"the result could not be pickled:\n{traceback.format_exc()}")
    error, text = value
    try:
        blob = cloudpickle.dumps(error)
    except Exception:
        stand_in = RuntimeError(f"{type(error).__name__}: {safe_str(error)} (the exception could not be pickled)")
        blob = cloudpickle.dumps(stand_in)
    # The attributes name the original exception even when the file holds its stand-in.
    return Outcome(False, blob, runtime, error=error, traceback=text)
