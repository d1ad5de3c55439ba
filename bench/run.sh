#!/usr/bin/env bash
# Run every benchmark one after another and print a Markdown table of the results.
#   bash bench/run.sh            full sizes (several minutes)
#   bash bench/run.sh --quick    smoke run (< 1 minute)
# EXECUTORLIB_SRC=/path/to/executorlib/src adds executorlib as a further peer. A benchmark that cannot
# run yet (e.g. needs block_allocation) still gets its row; the exit code is non-zero if any failed.
set -u
cd "$(dirname "$0")"
PYTHON=/usr/bin/python3   # the python3 first on PATH lacks zmq/cloudpickle/mpi4py
results=$(mktemp /tmp/executorlab-bench-XXXXXX.jsonl)
trap 'rm -f "$results"' EXIT
status=0
started=$SECONDS
# slurm_job and slurm_cluster start their own single-node SLURM (root; slurmctld/slurmd on ports 6917/6918, the
# test cluster's: not while the SLURM tests run) and stop it after; without SLURM they say so and exit 0.
# lost_node starts a 2-node SLURM (network namespaces, root) under /tmp/executorlab-multinode.lock, as the tests do.
# flux runs itself inside `flux start --test-size=2`; without flux on PATH it says so and exits 0.
for bench in throughput roundtrip fresh_process mpi bridge_memory cache cache_listing panels magics slurm_job slurm_cluster flux lost_node; do
  t0=$SECONDS
  rows=$(wc -l <"$results")
  "$PYTHON" "$bench.py" --results "$results" "$@"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    status=1
    # a crash leaves no row: say so in the table
    [ "$(wc -l <"$results")" -gt "$rows" ] || \
      printf '{"benchmark": "%s.py", "executorlab": "failed (exit %s)", "met?": "n/a"}\n' "$bench" "$rc" >>"$results"
  fi
  echo "# $bench.py: exit $rc after $((SECONDS - t0)) s"
  echo
done
echo "## Results ($((SECONDS - started)) s${1:+, $*})"
echo
echo "Machine: $("$PYTHON" _common.py machine)"
echo
"$PYTHON" _common.py table "$results"
exit $status
