"""Keeps one bridge running beside the Jupyter server: start, restart when it dies, stop at exit."""

import atexit
import os
import subprocess
import sys
import time

from tornado.ioloop import PeriodicCallback

from executorlab.client import bridge_process

CHECK_INTERVAL_MS = 500
MAX_BACKOFF = 10.0
STABLE_AFTER = 30.0


class BridgeSupervisor:
    def __init__(self, runtime_dir: str, log, root_dir: str = None):
        os.makedirs(runtime_dir, exist_ok=True)
        self.connection_file = os.path.join(runtime_dir, f"executorlab-bridge-{os.getpid()}.json")
        self.log = log
        # Executors started from the panel run this Python, with the server's root folder importable.
        self.panel_args = ["--python", sys.executable, *(["--pythonpath", root_dir] if root_dir else [])]
        self.process = None
        self.restarts = 0
        self._backoff = 0.5
        self._started_at = 0.0
        self._next_start = 0.0
        self._stopping = False
        self._watch = PeriodicCallback(self._check, CHECK_INTERVAL_MS)

    def start(self) -> None:
        # Kernels started by this server inherit the variable and find the bridge through it.
        os.environ[bridge_process.CONNECTION_FILE_ENV] = self.connection_file
        self._spawn()
        self._watch.start()
        atexit.register(self.stop)

    def info(self):
        """The running bridge's connection info, or None while it is (re)starting."""
        return bridge_process.read_connection_file(self.connection_file)

    def stop(self) -> None:
        self._stopping = True
        self._watch.stop()
        if self.process is not None:
            bridge_process.stop_process(self.process)
        try:
            os.unlink(self.connection_file)
        except FileNotFoundError:
            pass

    def _spawn(self) -> None:
        try:
            os.unlink(self.connection_file)
        except FileNotFoundError:
            pass
        command = bridge_process.bridge_command(
            self.connection_file, "--exit-with-parent", str(os.getpid()), *self.panel_args
        )
        # stderr is inherited: the bridge's log lines appear in the server's own log.
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self._started_at = time.monotonic()
        self.log.info("executorlab | bridge started (pid %s), connection file %s", self.process.pid, self.connection_file)

    def _check(self) -> None:
        if self._stopping or self.process is None or self.process.poll() is None:
            return
        now = time.monotonic()
        if self._next_start == 0.0:
            if now - self._started_at > STABLE_AFTER:
                self._backoff = 0.5
            self.log.warning(
                "executorlab | bridge (pid %s) exited with code %s; restarting in %.1f s",
                self.process.pid,
                self.process.returncode,
                self._backoff,
            )
            self._next_start = now + self._backoff
            self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            return
        if now >= self._next_start:
            self._next_start = 0.0
            self.restarts += 1
            self._spawn()
