"""The panels in Chromium (bench/ui/panels.bench.ts): runs the Playwright benchmarks against the built
JupyterLab app (``npm run build`` first) and adds their rows to ``--results``."""

import os
import subprocess
import sys

from _common import REPO, parse_args

args = parse_args(__doc__, full=100, quick=10, what="chains of 20 futures in the graph")
if not os.path.exists(os.path.join(REPO, "ui-tests", "app", "build", "bundle.js")):
    print("panels: ui-tests/app/build is missing: run `npm run build` at the repository root first")
    sys.exit(3)
env = {**os.environ, "BENCH_GRAPH_CHAINS": str(args.n)}
if args.results:
    env["BENCH_RESULTS"] = os.path.abspath(args.results)
result = subprocess.run(["npx", "playwright", "test", "-c", "bench/ui/playwright.config.ts"], cwd=REPO, env=env)
sys.exit(result.returncode)
