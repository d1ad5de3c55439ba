"""SlurmClusterExecutor against a real single-node SLURM: one sbatch job per call, through the cache files."""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from executorlab.tests.conftest import REPO, StandaloneBridge, queue_id, wait_for

pytestmark = pytest.mark.usefixtures("slurm")

PRELUDE = """
import json, os, sys, time
from executorlab import SlurmClusterExecutor, ExecutorlabJobError

def inc(x):
    return x + 1

def fail(x):
    raise ValueError(f"no good: {x}")

def nap(seconds, tag=None):
    time.sleep(seconds)
    return tag
"""


@pytest.fixture
def counted(tmp_path):
    """PATH with an sbatch that records each call before running the real one; returns (env, count())."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "sbatch-calls"
    log.touch()
    wrapper = bin_dir / "sbatch"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec /usr/bin/sbatch "$@"\n')
    wrapper.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return env, lambda: len(log.read_text().splitlines())


def kernel(code: str, env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    """A fresh Python process (a kernel) with its own private bridge unless env names one."""
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(REPO), **env}, capture_output=True, text=True, timeout=timeout,
    )


def output_of(result: subprocess.CompletedProcess):
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def squeue_state(job_id) -> str:
    out = subprocess.run(["squeue", "--noheader", "--states=all", f"--jobs={job_id}", "--format=%T"],
                         capture_output=True, text=True).stdout.strip()
    return out


def test_a_dependency_chain_runs_as_jobs_ordered_by_afterok(tmp_path, counted):
    env, sbatch_calls = counted
    cache = tmp_path / "cache"
    out = output_of(kernel(f"""
with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    a = exe.submit(inc, 1)
    b = exe.submit(inc, a)
    c = exe.submit(inc, b)
    print(json.dumps([a.result(), b.result(), c.result()]))
""", env))
    assert out == [2, 3, 4]
    assert sbatch_calls() == 3
    outputs = sorted(cache.glob("inc*_o.h5"))
    assert len(outputs) == 3 and not list(cache.glob("*_i.h5")), "the jobs turned every input into an output"
    # Each dependent was submitted with afterok on its upstream's job, before that job finished.
    scripts = [p.read_text() for p in cache.glob("inc*/slurm-job.sh")]
    assert sum("--dependency=afterok:" in s for s in scripts) == 2


def test_a_failing_call_raises_its_exception_and_fails_its_dependents(tmp_path):
    cache = tmp_path / "cache"
    out = output_of(kernel(f"""
with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    bad = exe.submit(fail, 7)
    after = exe.submit(inc, bad)
    errors = []
    for f in (bad, after):
        try:
            f.result()
        except Exception as error:
            errors.append([type(error).__name__, str(error)])
print(json.dumps(errors))
""", {}))
    assert out == [["ValueError", "no good: 7"], ["ValueError", "no good: 7"]]


def test_a_job_cancelled_with_scancel_fails_with_cancelled_and_stderr(tmp_path):
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(f"""
with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    slow = exe.submit(nap, 120, "slow")
    after = exe.submit(inc, slow)
    errors = []
    for f in (slow, after):
        try:
            f.result()
        except ExecutorlabJobError as error:
            errors.append(str(error))
print(json.dumps(errors))
""")],
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        job = wait_for(lambda: list(cache.glob("nap*_i.h5")) and queue_id(cache, "nap*_i.h5"), 60, "the job's queue_id")
        wait_for(lambda: squeue_state(job) == "RUNNING", 60, f"job {job} running")
        subprocess.run(["scancel", str(job)], check=True)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    slow, after = json.loads(stdout.strip().splitlines()[-1])
    assert f"SLURM job {job} of nap" in slow and "ended CANCELLED" in slow
    assert "stderr" in slow and "CANCELLED" in slow
    assert after == slow, "the dependent fails with its upstream's error"


def test_a_job_over_run_time_max_ends_with_timeout(tmp_path):
    cache = tmp_path / "cache"
    # SLURM counts time limits in minutes and checks them every 30 s or so: this takes 1-2 minutes.
    out = output_of(kernel(f"""
with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    try:
        exe.submit(nap, 600, resource_dict={{"run_time_max": 5}}).result()
    except ExecutorlabJobError as error:
        print(json.dumps(str(error)))
""", {}, timeout=280))
    assert "ended TIMEOUT" in out and "TimeLimit" in out
    script = next(cache.glob("nap*/slurm-job.sh")).read_text()
    assert "#SBATCH --time=0:05" in script


def test_restart_attaches_to_queued_jobs_and_reads_finished_ones_without_resubmitting(tmp_path, counted):
    env, sbatch_calls = counted
    cache = tmp_path / "cache"
    calls = f"""
exe = SlurmClusterExecutor(cache_directory={str(cache)!r})
a = exe.submit(nap, 4, "a")
b = exe.submit(nap, 1, a)
"""
    # The first kernel submits and leaves at once; its private bridge stops with it, the jobs go on.
    first = kernel(calls + "exe.shutdown(wait=False)\nprint(json.dumps('left'))", env)
    assert output_of(first) == "left" and sbatch_calls() == 2
    job_a = queue_id(cache, "nap*_i.h5")
    assert squeue_state(job_a) in ("PENDING", "RUNNING")
    # A new kernel with a new bridge submits the same calls: it attaches to both jobs.
    second = kernel(calls + "print(json.dumps([a.result(), b.result()]))\nexe.shutdown()", env)
    assert output_of(second) == ["a", "a"]
    assert sbatch_calls() == 2, "no call was submitted again"
    # Once finished, the same calls are answered from the cache.
    third = kernel(calls + "print(json.dumps([a.result(), b.result()]))\nexe.shutdown()", env)
    assert output_of(third) == ["a", "a"] and sbatch_calls() == 2


def test_a_new_kernel_on_the_same_bridge_attaches_to_the_running_job(tmp_path, counted):
    env, sbatch_calls = counted
    saved = os.environ["PATH"]
    os.environ["PATH"] = env["PATH"]
    try:
        # A kernel that left is noticed within 3 s (its bye, or silence).
        bridge = StandaloneBridge(tmp_path, "--client-timeout", "6")
    finally:
        os.environ["PATH"] = saved
    try:
        cache = tmp_path / "cache"
        calls = f"exe = SlurmClusterExecutor(cache_directory={str(cache)!r})\nf = exe.submit(nap, 3, 'x')\n"
        output_of(kernel(calls + "exe.shutdown(wait=False)\nprint(json.dumps(1))", bridge.env))
        assert output_of(kernel(calls + "print(json.dumps(f.result()))", bridge.env)) == "x"
        assert sbatch_calls() == 1
        # The orphaned task's record finished too: the bridge kept following its job.
        wait_for(lambda: [t["state"] for t in bridge.tasks("nap")] == ["done", "done"], 30, "both records done")
    finally:
        bridge.stop()


def test_terminate_tasks_in_cache_cancels_the_jobs_and_removes_their_inputs(tmp_path):
    from executorlab import terminate_tasks_in_cache

    cache = tmp_path / "cache"
    output_of(kernel(f"""
exe = SlurmClusterExecutor(cache_directory={str(cache)!r})
futures = [exe.submit(nap, 300, i) for i in range(2)]
exe.shutdown(wait=False)
print(json.dumps(1))
""", {}))
    jobs = [queue_id(cache, f.name) for f in cache.glob("nap*_i.h5")]
    assert len(jobs) == 2
    terminate_tasks_in_cache(str(cache), backend="slurm")
    assert not list(cache.glob("*_i.h5"))
    for job in jobs:
        wait_for(lambda: squeue_state(job) == "CANCELLED", 30, f"job {job} cancelled")


def test_a_custom_submission_template_is_rendered_as_jinja(tmp_path):
    cache = tmp_path / "cache"
    template = textwrap.dedent("""\
        #!/bin/bash
        #SBATCH --job-name=custom-{{job_name}}
        #SBATCH --chdir={{working_directory}}
        #SBATCH --output=custom.out
        #SBATCH --ntasks={{cores}}
        {%- if run_time_max %}
        #SBATCH --time={{ [1, run_time_max // 60]|max }}
        {%- endif %}
        {%- if dependency %}
        #SBATCH --dependency=afterok:{{ dependency | join(',') }}
        {%- endif %}
        echo "rendered for {{cores}} cores" > marker.txt
        {{command}}
        """)
    out = output_of(kernel(f"""
with SlurmClusterExecutor(cache_directory={str(cache)!r}, resource_dict={{"submission_template": {template!r}}}) as exe:
    a = exe.submit(inc, 1, resource_dict={{"run_time_max": 300}})
    b = exe.submit(inc, a)
    print(json.dumps([a.result(), b.result()]))
""", {}))
    assert out == [2, 3]
    markers = sorted(p.read_text() for p in cache.glob("inc*/marker.txt"))
    assert markers == ["rendered for 1 cores\n"] * 2
    scripts = [p.read_text() for p in cache.glob("inc*/slurm-job.sh")]
    assert any("#SBATCH --time=5" in s for s in scripts)
    assert any("#SBATCH --job-name=custom-inc" in s and "--dependency=afterok:" in s for s in scripts)


def test_an_mpi_call_runs_on_the_jobs_ranks(tmp_path):
    cache = tmp_path / "cache"
    out = output_of(kernel(f"""
def rank():
    from mpi4py import MPI
    return MPI.COMM_WORLD.Get_rank()

with SlurmClusterExecutor(cache_directory={str(cache)!r}) as exe:
    print(json.dumps(exe.submit(rank, resource_dict={{"cores": 2}}).result()))
""", {}))
    assert out == [0, 1]


def test_a_bad_template_is_refused_at_submit(tmp_path):
    out = output_of(kernel(f"""
with SlurmClusterExecutor(cache_directory={str(tmp_path)!r}) as exe:
    try:
        exe.submit(inc, 1, resource_dict={{"submission_template": "{{% if x %}}never closed"}})
    except ValueError as error:
        print(json.dumps(str(error)))
""", {}))
    assert "submission_template" in out and "cannot be rendered" in out


def test_a_pysqa_config_directory_supplies_the_job_script(tmp_path):
    config = tmp_path / "pysqa"
    config.mkdir()
    (config / "queue.yaml").write_text("queue_type: SLURM\nqueue_primary: short\nqueues:\n  short: {cores_max: 8, run_time_max: 3600, script: short.sh}\n")
    (config / "short.sh").write_text(textwrap.dedent("""\
        #!/bin/bash
        #SBATCH --job-name=pysqa-{{job_name}}
        #SBATCH --chdir={{working_directory}}
        #SBATCH --output=time.out
        #SBATCH --ntasks={{cores}}
        {%- if dependency_list %}
        #SBATCH --dependency=afterok:{{ dependency_list | join(',') }}
        {%- endif %}
        {{command}}
        """))
    cache = tmp_path / "cache"
    out = output_of(kernel(f"""
with SlurmClusterExecutor(cache_directory={str(cache)!r}, pysqa_config_directory={str(config)!r}) as exe:
    print(json.dumps(exe.submit(inc, exe.submit(inc, 1)).result()))
""", {}))
    assert out == 3
    scripts = [p.read_text() for p in cache.glob("inc*/slurm-job.sh")]
    assert all("#SBATCH --job-name=pysqa-inc" in s for s in scripts) and len(scripts) == 2
    assert any("--dependency=afterok:" in s for s in scripts)
    assert len(list(cache.glob("inc*/time.out"))) == 2
