"""%%submit and %executor in a real IPython kernel (through jupyter_client) against a real bridge."""

import textwrap

import pytest

from executorlab.tests.conftest import StandaloneBridge, wait_for
from executorlab.tests.kernel_session import KernelSession

FUTURE_MIME = "application/vnd.executorlab.future+json"


@pytest.fixture(scope="module")
def bridge(tmp_path_factory):
    bridge = StandaloneBridge(tmp_path_factory.mktemp("bridge"))
    yield bridge
    bridge.stop()


@pytest.fixture
def kernel(bridge, tmp_path):
    session = KernelSession(tmp_path, bridge.env)
    session.run("%load_ext executorlab")
    yield session
    session.stop()


def cell(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def test_namespace_goes_in_and_comes_back_with_block(kernel, bridge):
    kernel.run("a = 20\nimport math\nunused = object()")
    done = kernel.run(cell("""
        %%submit --block
        b = a + 1
        c = math.sqrt(16)
        def twice(x):
            return 2 * x
        twice(b)
    """))
    assert done.result()["text/plain"] == "42"
    # The live status line is shown first, naming the task.
    (status,) = done.bundles(FUTURE_MIME)
    assert status["label"].startswith("%%submit In[") and status["output"] == "cell" and status["task_id"]
    assert kernel.value("(b, c, twice(5))") == (21, 4.0, 10)
    # Shared objects stay shared; what cannot be pickled stays on the worker, said in one line.
    kept = kernel.run("%%submit --block\nimport threading\nitems = [a]\nsame = items\nlock = threading.Lock()\nlen(items)")
    assert kept.result()["text/plain"] == "1"
    assert "%%submit: lock stays on the worker: it cannot be sent back (lock:" in kept.stderr()
    assert kernel.value("items is same, items, 'lock' in globals()") == (True, [20], False)
    (task,) = [t for t in bridge.tasks() if t["id"] == status["task_id"]]
    assert task["state"] == "done" and task["fn_name"] == status["label"]
    assert task["args"] == "reads a, math; assigns b, c, twice" and task["result"] == "42; assigned b, c, twice"


def test_without_block_returns_at_once_and_awaiting_brings_names_back(kernel):
    started = kernel.run(cell("""
        %%submit -o fut
        import time
        time.sleep(1.5)
        d = 5
        d * 3
    """))
    (status,) = started.bundles(FUTURE_MIME)
    assert status["output"] == "live" and status["state"] in ("queued", "running")
    assert started.finished_at - started.displays[0][2] < 1.0
    assert kernel.value("'d' in globals(), fut.done()") == (False, False)
    assert kernel.value("fut.result(timeout=60)") == 15
    assert kernel.value("d") == 5
    # Awaiting works too, and a Future the cell reads is a dependency: the cell sees its result.
    kernel.run("%%submit -o second\ne = fut + 1\ne")
    assert kernel.value("await second") == 16
    assert kernel.value("e") == 16


def test_output_streams_while_the_task_runs(kernel):
    done = kernel.run(cell("""
        %%submit --block
        import time
        for i in range(4):
            print("line", i, flush=True)
            time.sleep(0.5)
    """))
    assert done.stdout() == "".join(f"line {i}\n" for i in range(4))
    first = next(at for name, text, at in done.streams if "line 0" in text)
    assert done.finished_at - first > 1.0, "the first line arrived only at the end"


def test_mpi_ranks_prefix_each_line(kernel):
    done = kernel.run(cell("""
        %%submit --block --cores 2
        from mpi4py import MPI
        rank = MPI.COMM_WORLD.Get_rank()
        print(f"hello from {rank}\\nbye from {rank}")
        rank * 10
    """), timeout=120)
    lines = sorted(done.stdout().splitlines())
    assert lines == ["[0] bye from 0", "[0] hello from 0", "[1] bye from 1", "[1] hello from 1"]
    assert done.result()["text/plain"] == "[0, 10]"
    assert kernel.value("rank") == 0


def test_interrupting_a_blocked_cell_cancels_its_task(kernel, bridge):
    stopped = kernel.run("%%submit --block\nimport time\ntime.sleep(60)", interrupt_after=3, allow_error=True,
                         timeout=30)
    assert stopped.error["ename"] == "KeyboardInterrupt"
    assert "%%submit: cancelled %%submit In[" in stopped.stderr()
    (status,) = stopped.bundles(FUTURE_MIME)
    wait_for(lambda: [t for t in bridge.tasks() if t["id"] == status["task_id"] and t["state"] == "cancelled"],
             10, "the task to be cancelled")


def test_a_future_displayed_in_a_cell_is_a_live_status_line(kernel):
    kernel.run("from executorlab import SingleNodeExecutor\nexe = SingleNodeExecutor()")
    shown = kernel.run("f = exe.submit(sum, [1, 2])\nf.result()\nf")
    data = shown.result()
    assert data[FUTURE_MIME]["state"] == "done" and data[FUTURE_MIME]["output"] == "cell"
    assert data[FUTURE_MIME]["task_id"] in data["text/plain"] and "done" in data["text/plain"]


def test_errors_name_what_was_wrong(kernel, tmp_path):
    def error_of(code: str) -> dict:
        """The error the cell raised; a UsageError, as IPython shows it, is one line on stderr."""
        execution = kernel.run(code, allow_error=True)
        if execution.error is not None:
            return execution.error
        assert "UsageError" in execution.stderr(), (execution.stderr(), execution.stdout(), execution.displays)
        ename, _, evalue = execution.stderr().strip().partition(": ")
        return {"ename": ename, "evalue": evalue}

    bad = error_of("%%submit --bogus\n1")
    assert bad["ename"] == "UsageError" and "unrecognized arguments: --bogus" in bad["evalue"]
    bad = error_of("%%submit --cores 0\n1")
    assert bad["ename"] == "UsageError" and "argument --cores: must be an integer ≥ 1, got '0'" in bad["evalue"]
    bad = error_of("%%submit --cores many\n1")
    assert "argument --cores" in bad["evalue"]
    bad = error_of("%%submit -o 1x\n1")
    assert "argument -o/--output: must be a Python name" in bad["evalue"]
    bad = error_of("%%submit -e nowhere\n1")
    assert bad["ename"] == "UsageError" and "no executor 'nowhere'" in bad["evalue"]
    bad = error_of("%%submit --block\nx = (")
    assert bad["ename"] == "UsageError" and "not Python" in bad["evalue"]
    kernel.run(f"handle = open({str(tmp_path / 'f.txt')!r}, 'w')")
    bad = error_of("%%submit --block\nhandle.write('x')")
    assert bad["ename"] == "UsageError" and "'handle' (TextIOWrapper)" in bad["evalue"]
    bad = error_of("%%submit --block --cache-key k\n1")
    assert "argument --cache-key: the executor has no cache_directory" in bad["evalue"]
    # A cell that raises: its own exception, with the remote traceback showing the cell's line.
    raised = error_of("%%submit --block\nx = 1\nraise ValueError(f'bad {x}')")
    assert raised["ename"] == "ValueError" and raised["evalue"] == "bad 1"
    assert any("raise ValueError(f'bad {x}')" in line for line in raised["traceback"])
    # Help in IPython's style, from the options themselves.
    helped = kernel.run("%%submit?")
    assert helped.reply["status"] == "ok", helped.reply
    page = "".join(p["data"]["text/plain"] for p in helped.reply["payload"] if p.get("source") == "page")
    assert "Run the cell as a task" in page and "--threads-per-core" in page and "--block" in page
    bad = error_of("%executor bogus")
    assert bad["ename"] == "UsageError" and "invalid choice: 'bogus'" in bad["evalue"]
    bad = error_of("%executor start --backend nowhere --max-cores 2")
    assert "argument --backend: invalid choice: 'nowhere'" in bad["evalue"]
    bad = error_of("%executor start --backend local")
    assert "the following arguments are required: --max-cores" in bad["evalue"]
    bad = error_of("%executor stop nothing-such")
    assert "no executor 'nothing-such' started from the panel" in bad["evalue"]


def test_every_executor_command(kernel, bridge, tmp_path):
    status = kernel.run("%executor status").stdout()
    assert "bridge: pid" in status and "current executor: SingleNodeExecutor (started for %%submit)" in status
    started = kernel.run("%executor start --backend local --max-cores 2 --name shared").stdout()
    assert "started 'shared' (local, 2 cores); %%submit uses it now" in started
    listed = kernel.run("%executor list").stdout()
    assert any(line.split()[:3] == ["shared", "local", "0/2"] and line.endswith("panel") for line in listed.splitlines())
    done = kernel.run("%%submit --block\nimport os\nos.getpid()")
    (status_line,) = done.bundles(FUTURE_MIME)
    shared = next(e for e in bridge.api("/api/executors")[1]["executors"] if e["name"] == "shared" and not e["shutdown"])
    (task,) = [t for t in bridge.tasks() if t["id"] == status_line["task_id"]]
    assert task["executor_id"] == shared["id"]

    cache = tmp_path / "cache"
    kernel.run(f"from executorlab import SingleNodeExecutor\nmine = SingleNodeExecutor(cache_directory={str(cache)!r})")
    assert "%%submit uses mine (SingleNodeExecutor) now" in kernel.run("%executor use mine").stdout()
    kernel.run("%%submit --block --cache-key answer\n6 * 7")
    assert "current executor: mine (SingleNodeExecutor)" in kernel.run("%executor status").stdout()
    # The bridge writes the cache file after it sent the result.
    wait_for(lambda: (cache / "answer_o.h5").exists(), 10, "the cache file")
    listing = kernel.run("%executor cache list").stdout()
    assert f"{cache}: 1 files" in listing and "answer_o.h5" in listing and " done " in listing and " 42" in listing
    # A second run of the same cell is a cache hit.
    again = kernel.run("%%submit --block --cache-key answer\n6 * 7")
    (task,) = [t for t in bridge.tasks() if t["id"] == again.bundles(FUTURE_MIME)[0]["task_id"]]
    assert task["cache_hit"] is True and again.result()["text/plain"] == "42"
    assert "would delete 1 files" in kernel.run("%executor cache clean --dry-run").stdout()
    assert "deleted 0 files" in kernel.run("%executor cache clean --failed").stdout()
    assert "deleted 0 files" in kernel.run("%executor cache clean --older-than 1").stdout()
    assert "deleted 1 files" in kernel.run(f"%executor cache clean {cache}").stdout()
    assert not (cache / "answer_o.h5").exists()
    assert f"{cache}: 0 files" in kernel.run("%executor cache list").stdout()

    assert "stopped 'shared'" in kernel.run("%executor stop shared").stdout()
    wait_for(lambda: all(e["shutdown"] for e in bridge.api("/api/executors")[1]["executors"] if e["name"] == "shared"),
             10, "the executor to stop")
    assert "shared" not in kernel.run("%executor list").stdout()


def test_the_executorlab_kernel_loads_the_magics_itself(bridge, tmp_path):
    from executorlab.cli import kernel_spec

    session = KernelSession(tmp_path, bridge.env, argv=kernel_spec(flux=False)["argv"])
    try:
        assert "executorlab.magics" in session.value("str(type(get_ipython().find_cell_magic('submit').__self__))")
        assert session.run("%%submit --block\n2 + 3").result()["text/plain"] == "5"
    finally:
        session.stop()
