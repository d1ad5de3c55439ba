"""The flux executors against a real flux instance of two brokers: the cases of test_slurm_job.py and
test_slurm_cluster.py, and calls that span both brokers.

The instance (``executorlab/tests/flux.py``) is shared by the session; each test's kernel is a fresh Python
process with FLUX_URI set to it, and its private bridge inherits it.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from executorlab.tests.conftest import REPO, queue_id, wait_for
from executorlab.tests.flux import FLUX

pytestmark = pytest.mark.usefixtures("flux")

PRELUDE = """
import json, os, subprocess, time
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

def broker():
    \"\"\"The rank of the flux broker this process runs under (a job's FLUX_URI is its broker's).\"\"\"
    return int(subprocess.run(["flux", "getattr", "rank"], capture_output=True, text=True, check=True).stdout)
"""


def in_flux(code: str, flux, timeout: float = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    """Kernel code in the session's flux instance (FLUX_URI set, as the "Python 3 (flux)" kernel has it)."""
    return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
                          env={**os.environ, "PYTHONPATH": str(REPO), **flux.env, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def output_of(result):
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def counted(tmp_path):
    """PATH with a `flux` that records each submission (`flux batch`, `flux submit`) before running the real one;
    returns (env, count())."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "flux-batch-calls"
    log.touch()
    wrapper = bin_dir / "flux"
    wrapper.write_text(f'#!/bin/sh\ncase "$1" in batch|submit) echo "$@" >> {log};; esac\nexec {FLUX} "$@"\n')
    wrapper.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}, lambda: len(log.read_text().splitlines())


def job_result(flux, job_id: int) -> str:
    """flux's word for a job: its state while active, its result (COMPLETED, CANCELED, ...) once inactive."""
    state, result = flux.run("jobs", "-n", "--format={state}|{result}", str(job_id)).stdout.strip().split("|")
    return result if state == "INACTIVE" else state


# Job mode: every call (or block-allocation worker) is a `flux run` job.

def test_job_mode_mpi_call_returns_every_rank(flux):
    out = output_of(in_flux("""
with FluxJobExecutor(resource_dict={"cores": 2}) as exe:
    print(json.dumps(exe.submit(ranks).result()))
""", flux))
    assert out == [[0, 2], [1, 2]]


def test_job_mode_calls_run_concurrently(flux):
    out = output_of(in_flux("""
def span():
    start = time.time(); time.sleep(2); return [start, time.time()]
with FluxJobExecutor() as exe:
    print(json.dumps([f.result() for f in [exe.submit(span) for _ in range(2)]]))
""", flux))
    assert max(s for s, _ in out) < min(e for _, e in out)


def test_job_mode_an_mpi_call_on_two_nodes_spans_both_brokers(flux):
    out = output_of(in_flux("""
def where():
    from mpi4py import MPI
    return [MPI.COMM_WORLD.Get_rank(), broker()]
with FluxJobExecutor() as exe:
    print(json.dumps(exe.submit(where, resource_dict={"cores": 2, "num_nodes": 2}).result()))
""", flux))
    assert sorted(r for r, _ in out) == [0, 1]
    assert sorted(b for _, b in out) == [0, 1], "one rank on each broker"


def test_job_mode_block_allocation_workers_fill_both_brokers(flux):
    # Each broker owns this machine's cores: one worker more than that cannot all sit on one broker.
    workers = os.cpu_count() + 1
    out = output_of(in_flux(f"""
def who(executorlib_worker_id=None):
    time.sleep(0.3); return [executorlib_worker_id, os.getpid(), broker()]
with FluxJobExecutor(max_workers={workers}, block_allocation=True) as exe:
    print(json.dumps([f.result() for f in [exe.submit(who) for _ in range({3 * workers})]]))
""", flux))
    assert {w for w, _, _ in out} == set(range(workers)), "every worker took calls"
    assert len({(w, p) for w, p, _ in out}) == workers, "warm workers: one process each"
    assert {b for _, _, b in out} == {0, 1}, "workers on both brokers"


def test_job_mode_block_allocation_runs_the_init_function_in_each_worker(flux):
    out = output_of(in_flux("""
def init():
    return {"offset": 100}
def add(x, offset):
    return x + offset
with FluxJobExecutor(max_workers=2, block_allocation=True, init_function=init) as exe:
    print(json.dumps([f.result() for f in [exe.submit(add, i) for i in range(4)]]))
""", flux))
    assert out == [100, 101, 102, 103]


def test_job_mode_nesting_gives_each_worker_a_flux_instance_of_its_own(flux):
    out = output_of(in_flux("""
def nested():
    level = subprocess.run(["flux", "getattr", "instance-level"], capture_output=True, text=True, check=True).stdout
    inner = subprocess.run(["flux", "run", "-n1", "echo", "inner job"], capture_output=True, text=True, check=True).stdout
    return [int(level), inner.strip()]
with FluxJobExecutor(flux_executor_nesting=True) as exe:
    print(json.dumps(exe.submit(nested).result()))
""", flux))
    assert out == [1, "inner job"]


def test_job_mode_run_time_max_raises_timeout_error(flux):
    out = output_of(in_flux("""
with FluxJobExecutor() as exe:
    f = exe.submit(nap, 30, resource_dict={"run_time_max": 2})
    try:
        f.result()
    except Exception as error:
        print(json.dumps([type(error).__name__, str(error)]))
""", flux))
    assert out[0] == "TimeoutError", out
    assert "run_time_max=2" in out[1]


def test_job_mode_a_remote_exception_is_raised_as_itself(flux):
    out = output_of(in_flux("""
with FluxJobExecutor() as exe:
    try:
        exe.submit(fail, 3).result()
    except ValueError as error:
        print(json.dumps(str(error)))
""", flux))
    assert out == "no good: 3"


# Cluster mode: every call is a `flux batch` job running `python -m executorlab.cache_worker`.

def test_cluster_mode_chain_failure_and_template(tmp_path, flux):
    template = "#!/bin/bash\n# flux: -n {{cores}}\n{%- for jobid in dependency %}\n# flux: --dependency=afterok:{{jobid}}\n{%- endfor %}\necho templated > marker.txt\n{{command}}\n"
    out = output_of(in_flux(f"""
with FluxClusterExecutor(cache_directory={str(tmp_path / 'cache')!r}) as exe:
    a = exe.submit(inc, 1)
    b = exe.submit(inc, a, resource_dict={{"submission_template": {template!r}}})
    c = exe.submit(inc, b)
    bad = exe.submit(fail, 7)
    after = exe.submit(inc, bad)
    errors = []
    for f in (bad, after):
        try:
            f.result()
        except Exception as error:
            errors.append(str(error))
    print(json.dumps([a.result(), b.result(), c.result(), errors]))
""", flux))
    assert out == [2, 3, 4, ["no good: 7", "no good: 7"]]
    assert list((tmp_path / "cache").glob("inc*/marker.txt"))
    # Calls on the default template are `flux submit` jobs (recorded as flux-submit.sh), b's is its script.
    cache = tmp_path / "cache"
    assert len(list(cache.glob("inc*/flux-job.sh"))) == 1 and len(list(cache.glob("*/flux-submit.sh"))) == 4
    records = [p.read_text() for p in cache.glob("inc*/flux-*.sh")]
    assert sum("--dependency=afterok:" in s for s in records) == 3, "b, c and after were submitted at once, ordered by flux"


def test_cluster_mode_an_mpi_call_on_two_nodes_spans_both_brokers(tmp_path, flux):
    out = output_of(in_flux(f"""
def where():
    from mpi4py import MPI
    return [MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size(), broker()]
with FluxClusterExecutor(cache_directory={str(tmp_path / 'cache')!r}) as exe:
    print(json.dumps(exe.submit(where, resource_dict={{"cores": 2, "num_nodes": 2}}).result()))
""", flux))
    assert sorted(r for r, _, _ in out) == [0, 1] and {n for _, n, _ in out} == {2}
    assert sorted(b for *_, b in out) == [0, 1], "one rank on each broker"


def test_cluster_mode_end_states_are_named_with_the_job_id(tmp_path, flux):
    cache = tmp_path / "cache"
    # A job whose script fails before the call: FAILED, its exit code, and the end of its stderr.
    broken = "#!/bin/bash\n#flux: -n {{cores}}\n#flux: --error={{error_file}}\necho 'the module system is broken' >&2\nexit 3\n{{command}}\n"
    out = output_of(in_flux(f"""
with FluxClusterExecutor(cache_directory={str(cache)!r}) as exe:
    timed = exe.submit(nap, 120, "timed", resource_dict={{"run_time_max": 2}})
    slow = exe.submit(nap, 120, "slow")
    failed = exe.submit(nap, 1, "failed", resource_dict={{"submission_template": {broken!r}}})
    time.sleep(6)  # the first is over its limit by then
    subprocess.run(["flux", "cancel", "--all"], check=False)
    messages = []
    for f in (timed, slow, failed):
        try:
            f.result()
        except ExecutorlabJobError as error:
            messages.append(str(error))
    print(json.dumps(messages))
""", flux))
    timed, slow, failed = out
    assert "ended TIMEOUT (Timeout)" in timed and "flux job " in timed
    assert "ended CANCELED (Canceled" in slow
    assert "ended FAILED (Exit 3)" in failed and "the module system is broken" in failed
    for message in out:
        job = int(message.split("flux job ")[1].split()[0])
        assert job_result(flux, job) in message, "the job id in the message is the job's"


def test_cluster_mode_restart_attaches_to_the_jobs_without_submitting_again(tmp_path, flux, counted):
    env, submissions = counted
    cache = tmp_path / "cache"
    calls = f"""
exe = FluxClusterExecutor(cache_directory={str(cache)!r})
a = exe.submit(nap, 4, "a")
b = exe.submit(nap, 1, a)
"""
    # The first kernel submits and leaves at once; its private bridge stops with it, the jobs go on.
    assert output_of(in_flux(calls + "exe.shutdown(wait=False)\nprint(json.dumps('left'))", flux, env=env)) == "left"
    assert submissions() == 2
    assert job_result(flux, queue_id(cache, "nap*_i.h5")) in ("DEPEND", "PRIORITY", "SCHED", "RUN")
    # A new kernel with a new bridge submits the same calls: it attaches to both jobs.
    assert output_of(in_flux(calls + "print(json.dumps([a.result(), b.result()]))", flux, env=env)) == ["a", "a"]
    assert submissions() == 2, "no call was submitted again"
    # Once finished, the same calls are answered from the cache.
    assert output_of(in_flux(calls + "print(json.dumps([a.result(), b.result()]))", flux, env=env)) == ["a", "a"]
    assert submissions() == 2


def test_terminate_tasks_in_cache_cancels_the_flux_jobs_and_removes_their_inputs(tmp_path, flux):
    from executorlab import terminate_tasks_in_cache

    cache = tmp_path / "cache"
    output_of(in_flux(f"""
exe = FluxClusterExecutor(cache_directory={str(cache)!r})
futures = [exe.submit(nap, 300, i) for i in range(2)]
exe.shutdown(wait=False)
print(json.dumps(1))
""", flux))
    jobs = [queue_id(cache, f.name) for f in cache.glob("nap*_i.h5")]
    assert len(jobs) == 2
    saved = os.environ.get("FLUX_URI")
    os.environ["FLUX_URI"] = flux.uri
    try:
        terminate_tasks_in_cache(str(cache), backend="flux")
    finally:
        os.environ.pop("FLUX_URI") if saved is None else os.environ.update(FLUX_URI=saved)
    assert not list(cache.glob("*_i.h5"))
    for job in jobs:
        wait_for(lambda: job_result(flux, job) == "CANCELED", 30, f"job {job} cancelled")


def test_cluster_mode_a_pysqa_config_directory_supplies_the_job_script(tmp_path, flux):
    config = tmp_path / "pysqa"
    config.mkdir()
    (config / "queue.yaml").write_text("queue_type: FLUX\nqueue_primary: flux\nqueues:\n  flux: {cores_max: 8, run_time_max: 3600, script: flux.sh}\n")
    (config / "flux.sh").write_text(textwrap.dedent("""\
        #!/bin/bash
        # flux: --job-name=pysqa-{{job_name}}
        # flux: --output=time.out
        # flux: -n {{cores}}
        {%- for jobid in dependency_list %}
        # flux: --dependency=afterok:{{jobid}}
        {%- endfor %}
        {{command}}
        """))
    cache = tmp_path / "cache"
    out = output_of(in_flux(f"""
with FluxClusterExecutor(cache_directory={str(cache)!r}, pysqa_config_directory={str(config)!r}) as exe:
    print(json.dumps(exe.submit(inc, exe.submit(inc, 1)).result()))
""", flux))
    assert out == 3
    scripts = [p.read_text() for p in cache.glob("inc*/flux-job.sh")]
    assert len(scripts) == 2 and all("--job-name=pysqa-inc" in s for s in scripts)
    assert any("--dependency=afterok:" in s for s in scripts)
    assert len(list(cache.glob("inc*/time.out"))) == 2
    names = flux.run("jobs", "-a", "-n", "--format={name}").stdout.split()
    assert names.count("pysqa-inc") >= 2


def test_outside_a_flux_instance_the_executors_say_how_to_get_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FLUX_URI"}
    code = PRELUDE + f"""
messages = []
for make in (FluxJobExecutor, lambda: FluxClusterExecutor(cache_directory={str(tmp_path)!r})):
    try:
        make()
        messages.append(None)
    except ValueError as error:
        messages.append(str(error))
print(json.dumps(messages))
"""
    result = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=60)
    for message, name in zip(output_of(result), ("FluxJobExecutor", "FluxClusterExecutor")):
        assert message is not None, f"{name} was created outside a flux instance"
        assert f"{name} runs every call as a job of a flux instance" in message
        assert "FLUX_URI is not set" in message and "flux start" in message and "executorlab kernelspec install --flux" in message
