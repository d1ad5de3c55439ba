"""The flux executors against a real flux instance: the cases of test_slurm_job.py and test_slurm_cluster.py.

flux-core is in neither Debian's nor npm's registry, so these run only where a ``flux`` command is on PATH
(inside ``flux start`` or with flux installed); elsewhere they are skipped with the reason printed.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from executorlab.tests.conftest import REPO

FLUX = shutil.which("flux")
needs_flux = pytest.mark.skipif(
    FLUX is None, reason="flux is not on PATH (flux-core is not packaged for Debian 12; build it to run these)"
)

PRELUDE = """
import json, os, time
from executorlab import FluxJobExecutor, FluxClusterExecutor, ExecutorlabJobError

def inc(x):
    return x + 1

def fail(x):
    raise ValueError(f"no good: {x}")

def nap(seconds, tag=None):
    time.sleep(seconds)
    return tag

def ranks():
    from mpi4py import MPI
    return [MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()]
"""


def in_flux(code: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Kernel code in a flux instance: the current one (FLUX_URI), else a private `flux start`."""
    command = [sys.executable, "-c", PRELUDE + textwrap.dedent(code)]
    if not os.environ.get("FLUX_URI"):
        command = [FLUX, "start", "--test-size=1", *command]
    return subprocess.run(command, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          timeout=timeout)


def output_of(result):
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs_flux
def test_job_mode_mpi_call_returns_every_rank():
    out = output_of(in_flux("""
with FluxJobExecutor(resource_dict={"cores": 2}) as exe:
    print(json.dumps(exe.submit(ranks).result()))
"""))
    assert out == [[0, 2], [1, 2]]


@needs_flux
def test_job_mode_calls_run_concurrently():
    out = output_of(in_flux("""
def span():
    start = time.time(); time.sleep(2); return [start, time.time()]
with FluxJobExecutor() as exe:
    print(json.dumps([f.result() for f in [exe.submit(span) for _ in range(2)]]))
"""))
    assert max(s for s, _ in out) < min(e for _, e in out)


@needs_flux
def test_job_mode_block_allocation():
    out = output_of(in_flux("""
def who(executorlib_worker_id=None):
    time.sleep(0.5); return [executorlib_worker_id, os.getpid()]
with FluxJobExecutor(max_workers=2, block_allocation=True) as exe:
    print(json.dumps([f.result() for f in [exe.submit(who) for _ in range(6)]]))
"""))
    assert {w for w, _ in out} == {0, 1} and len({tuple(x) for x in out}) == 2


@needs_flux
def test_cluster_mode_chain_failure_and_template(tmp_path):
    template = "#!/bin/bash\n# flux: -n {{cores}}\n{%- for jobid in dependency %}\n# flux: --dependency=afterok:{{jobid}}\n{%- endfor %}\necho templated > marker.txt\n{{command}}\n"
    out = output_of(in_flux(f"""
with FluxClusterExecutor(cache_directory={str(tmp_path / 'cache')!r}) as exe:
    a = exe.submit(inc, 1)
    b = exe.submit(inc, a, resource_dict={{"submission_template": {template!r}}})
    bad = exe.submit(fail, 7)
    after = exe.submit(inc, bad)
    errors = []
    for f in (bad, after):
        try:
            f.result()
        except Exception as error:
            errors.append(str(error))
    print(json.dumps([a.result(), b.result(), errors]))
"""))
    assert out == [2, 3, ["no good: 7", "no good: 7"]]
    assert list((tmp_path / "cache").glob("inc*/marker.txt"))


@needs_flux
def test_cluster_mode_cancelled_and_timeout(tmp_path):
    cache = str(tmp_path / "cache")
    out = output_of(in_flux(f"""
import subprocess
with FluxClusterExecutor(cache_directory={cache!r}) as exe:
    timed = exe.submit(nap, 120, resource_dict={{"run_time_max": 2}})
    slow = exe.submit(nap, 120)
    time.sleep(5)  # the first is over its limit by then
    subprocess.run(["flux", "cancel", "--all"], check=False)
    messages = []
    for f in (timed, slow):
        try:
            f.result()
        except ExecutorlabJobError as error:
            messages.append(str(error))
    print(json.dumps(messages))
"""))
    assert "TIMEOUT" in out[0] and "CANCELED" in out[1].upper()


@needs_flux
def test_cluster_mode_restart_and_terminate(tmp_path):
    cache = str(tmp_path / "cache")
    out = output_of(in_flux(f"""
import subprocess, sys
code = '''
from executorlab import FluxClusterExecutor
import time, json
def nap(seconds, tag=None):
    time.sleep(seconds)
    return tag
exe = FluxClusterExecutor(cache_directory={cache!r})
f = exe.submit(nap, 3, "x")
'''
first = subprocess.run([sys.executable, "-c", code + "exe.shutdown(wait=False)"], check=True)
second = subprocess.run([sys.executable, "-c", code + "print(json.dumps(f.result()))"], check=True, capture_output=True, text=True)
print(second.stdout.strip())
"""))
    assert out == "x"


@pytest.mark.skipif(FLUX is not None and bool(os.environ.get("FLUX_URI")), reason="runs outside a flux instance")
def test_outside_a_flux_instance_the_executors_say_how_to_get_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FLUX_URI"}
    code = PRELUDE + f"""
messages = []
for make in (FluxJobExecutor, lambda: FluxClusterExecutor(cache_directory={str(tmp_path)!r})):
    try:
        make()
    except ValueError as error:
        messages.append(str(error))
print(json.dumps(messages))
"""
    result = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=60)
    job, cluster = output_of(result)
    assert "FLUX_URI is not set" in job and "flux start" in job and "executorlab kernelspec install --flux" in job
    if FLUX is None:
        assert "flux is not on the bridge's PATH" in cluster
