"""A real flux instance of two brokers (``flux start --test-size=2``) for the tests that need one.

Started once per test session and shut down after, whatever happened. Each broker owns every core of this
machine, so the instance has two "nodes" (broker ranks 0 and 1) that jobs can span with ``-N2``.
flux-core is in neither Debian's nor npm's registry: ``.ci/run`` builds it and puts it on PATH, and the README's
test command then sets EXECUTORLAB_REQUIRE_FLUX=1, so that a flux that cannot start fails the tests instead of
skipping them.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

FLUX = shutil.which("flux")
REQUIRED = os.environ.get("EXECUTORLAB_REQUIRE_FLUX") == "1"
BROKERS = 2


class FluxInstance:
    """`flux start --test-size=2` whose initial program waits on its stdin: closing it shuts the instance down."""

    def __init__(self, directory: Path):
        self.directory = directory
        uri_file = directory / "uri"
        self.log = open(directory / "flux.log", "wb")
        self.process = subprocess.Popen(
            [FLUX, "start", f"--test-size={BROKERS}", "bash", "-c", f'echo "$FLUX_URI" > {uri_file}.tmp && '
             f"mv {uri_file}.tmp {uri_file} && exec cat > /dev/null"],
            stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not uri_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"flux start --test-size={BROKERS} did not come up: {(directory / 'flux.log').read_text()}")
            time.sleep(0.05)
        self.uri = uri_file.read_text().strip()
        self.env = {"FLUX_URI": self.uri}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """A flux command against this instance."""
        return subprocess.run([FLUX, *args], env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=60, check=check)

    def cancel_all(self) -> None:
        self.run("cancel", "--all", check=False)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def flux_instance(tmp_path_factory):
    if FLUX is None:
        why = "flux is not on PATH (flux-core is packaged neither for Debian 12 nor on npm; .ci/run builds it)"
        if REQUIRED:
            pytest.fail(f"EXECUTORLAB_REQUIRE_FLUX=1 but {why}")
        pytest.skip(why)
    instance = FluxInstance(tmp_path_factory.mktemp("flux"))
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def flux(flux_instance):
    """The session's flux instance, with no job of an earlier test left in it."""
    yield flux_instance
    flux_instance.cancel_all()
