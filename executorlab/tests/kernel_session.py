"""A real IPython kernel driven through jupyter_client, for tests of what a notebook sees."""

import json
import queue
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from executorlab.tests.conftest import REPO


@dataclass
class Execution:
    """What one execute request produced, in order, with when each output arrived (time.monotonic())."""

    reply: dict = None
    streams: list = field(default_factory=list)  # (name, text, at)
    displays: list = field(default_factory=list)  # (msg_type, data, at): display_data, execute_result
    error: dict = None
    finished_at: float = 0.0

    def stdout(self) -> str:
        return "".join(text for name, text, _ in self.streams if name == "stdout")

    def stderr(self) -> str:
        return "".join(text for name, text, _ in self.streams if name == "stderr")

    def result(self):
        """The execute_result's data, or None."""
        return next((data for kind, data, _ in self.displays if kind == "execute_result"), None)

    def bundles(self, mime: str) -> list:
        return [data[mime] for _, data, _ in self.displays if mime in data]


class KernelSession:
    def __init__(self, tmp_path: Path, env: dict, argv: list = None):
        kernels = tmp_path / "kernels"
        spec = kernels / "executorlab-test"
        spec.mkdir(parents=True, exist_ok=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": argv or [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "executorlab test",
            "language": "python",
            "env": {"PYTHONPATH": str(REPO), **env},
        }))
        self.manager = KernelManager(
            kernel_name="executorlab-test", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
        )
        self.manager.start_kernel(cwd=str(tmp_path))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 90, allow_error: bool = False, interrupt_after: float = None) -> Execution:
        """Execute ``code``; collect its outputs until the kernel is idle again (interrupting it first after
        ``interrupt_after`` s, as the Stop button does)."""
        msg_id = self.client.execute(code)
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            self.manager.interrupt_kernel()
        execution = Execution()
        deadline = time.monotonic() + timeout
        idle = False
        while not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"the kernel did not finish within {timeout} s: {code[:200]!r}")
            try:
                message = self.client.get_iopub_msg(timeout=remaining)
            except queue.Empty:
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content, at = message["msg_type"], message["content"], time.monotonic()
            if kind == "stream":
                execution.streams.append((content["name"], content["text"], at))
            elif kind in ("display_data", "execute_result"):
                execution.displays.append((kind, content["data"], at))
            elif kind == "error":
                execution.error = content
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        execution.finished_at = time.monotonic()
        while execution.reply is None:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                execution.reply = reply["content"]
        if execution.error is not None and not allow_error:
            raise AssertionError(f"{code[:200]!r} raised {execution.error['ename']}: {execution.error['evalue']}\n"
                                 + "\n".join(execution.error["traceback"]))
        return execution

    def value(self, expression: str):
        """An expression's value in the kernel, through its repr."""
        import ast

        result = self.run(expression).result()
        return ast.literal_eval(result["text/plain"])

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)
