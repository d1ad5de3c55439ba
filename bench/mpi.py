#!/usr/bin/python3
"""A cores=2 MPI task vs a bare ``mpiexec -n 2 python3 -c "from mpi4py import MPI"``.

executorlab: SingleNodeExecutor(max_cores=2), ``submit(mpi_rank, resource_dict={"cores": 2}).result()``
one at a time (each starts ``mpiexec -n 2`` workers). Both are run once to warm up, then N times;
medians are compared. Target: executorlab <= 1.2x the bare mpiexec.
"""

import shutil
import subprocess
import sys

import _common as c

TARGET = 1.2
CORES = 2


def mpi_rank() -> int:
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank()


def bare_mpiexec(n: int) -> list:
    command = [shutil.which("mpiexec") or "mpiexec", "-n", str(CORES), sys.executable, "-c", "from mpi4py import MPI"]
    run = lambda: subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    run()
    return c.time_each(run, n)


def executor_tasks(make_executor, n: int) -> list:
    with make_executor() as executor:
        run = lambda: executor.submit(mpi_rank, resource_dict={"cores": CORES}).result()
        ranks = run()
        if ranks != list(range(CORES)):
            raise AssertionError(f"an MPI task returned {ranks!r}, expected one rank per core")
        return c.time_each(run, n)


def summary(times: list) -> str:
    return f"median {c.ms(c.median(times))} (min {c.ms(min(times))}, max {c.ms(max(times))})"


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=20, quick=3, what="repetitions")
    name = f"MPI task, cores={CORES}, median of {args.n}"
    c.header(name, args)
    from executorlab import SingleNodeExecutor

    peer = bare_mpiexec(args.n)
    c.say(f"peer: bare mpiexec -n {CORES} python3 -c 'from mpi4py import MPI': {summary(peer)}")
    ours = executor_tasks(lambda: SingleNodeExecutor(max_cores=CORES), args.n)
    c.say(f"executorlab: SingleNodeExecutor(max_cores={CORES}): {summary(ours)}")
    lib = None
    if c.executorlib() is not None:
        lib = executor_tasks(lambda: c.executorlib().SingleNodeExecutor(max_cores=CORES), args.n)
        c.say(f"executorlib: SingleNodeExecutor(max_cores={CORES}): {summary(lib)}")
    ratio = c.median(ours) / c.median(peer)
    c.report(args, name, c.ms(c.median(ours)), c.ms(c.median(peer)), c.times(ratio), f"<= {TARGET:.1f}x peer",
             ratio <= TARGET, None if lib is None else c.ms(c.median(lib)))


if __name__ == "__main__":
    main()
