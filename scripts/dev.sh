#!/usr/bin/env bash
# The README's two commands:
#   bash scripts/dev.sh lab    install what is missing, build, start JupyterLab on examples/
#   bash scripts/dev.sh test   install what is missing, build, run every test layer
# Each step is skipped when its inputs did not change since it last succeeded, so a second run is fast.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAMPS=$ROOT/.stamps
mkdir -p "$STAMPS"

APT_PACKAGES=(
  python3-zmq python3-cloudpickle python3-h5py python3-mpi4py openmpi-bin
  python3-jupyter-server python3-jupyterlab-server python3-ipykernel
  python3-pytest python3-pytest-timeout python3-venv python3-pip python3-setuptools python3-wheel
  chromium
  # Graphviz: the SVG/PNG drawings of plot_dependency_graph.
  graphviz
  # A real single-node SLURM for the SLURM tests (started and stopped by the test session itself).
  slurmctld slurmd slurm-client munge libpmix-dev
  # The 2-node SLURM of the multi-node tests: nodes are network namespaces on a bridge (ip, ss).
  iproute2
)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Run "$@" unless the hash of the named inputs equals the one recorded after its last success.
unless_unchanged() {
  local name=$1 inputs=$2; shift 2
  local hash
  # Missing inputs are part of the state too: a failing probe must not stop the script.
  hash=$( { eval "$inputs" || true; } 2>/dev/null | sha256sum | cut -d" " -f1)
  if [[ -f $STAMPS/$name && $(cat "$STAMPS/$name") == "$hash" ]]; then
    return 0
  fi
  "$@"
  echo "$hash" > "$STAMPS/$name"
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_npm() {
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
}

build() {
  say "npm run build (bridge, extension, prebuilt labextension, test lab)"
  npm run build --silent
}

files_of() { find "$@" -type f -not -path '*/node_modules/*' -not -path '*/lib/*' -print0 2>/dev/null | sort -z | xargs -0 sha256sum; }
BUILD_INPUTS="files_of src style schema kernel-bridge/src kernel-bridge/scripts ui-tests/app/*.js ui-tests/app/templates ui-tests/app/app_settings; sha256sum package-lock.json package.json tsconfig.json kernel-bridge/tsconfig.json"

prepare() {
  install_apt
  unless_unchanged npm-ci "sha256sum package-lock.json; test -d node_modules && echo present" install_npm
  unless_unchanged build "$BUILD_INPUTS; ls executorlab/bridge/bridge.mjs executorlab/labextension/package.json ui-tests/app/build/bundle.js" build
}

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

case "${1:-}" in
  lab)
    prepare
    say "JupyterLab with executorlab on examples/ — open the URL with the token printed below"
    JLAB_TOKEN=generate exec ui-tests/app/start-server.sh "${LAB_PORT:-8888}" examples
    ;;
  test)
    prepare
    failed=()
    run_layer() {
      local name=$1; shift
      say "$name"
      "$@" || failed+=("$name")
    }
    run_layer "bridge unit tests" npm test --silent -w @executorlab/kernel-bridge
    run_layer "frontend unit tests" npm run test:frontend --silent
    run_layer "UI tests (Playwright, Chromium)" npm run test:ui --silent
    # The SLURM tests must run here: a SLURM that cannot start fails them instead of skipping them.
    # flux is used whenever it is on PATH (.ci/run builds it): then a flux that cannot start fails its tests.
    if command -v flux >/dev/null; then export EXECUTORLAB_REQUIRE_FLUX=1; fi
    run_layer "pytest (real bridge, workers, mpiexec, SLURM, flux, Jupyter server)" env EXECUTORLAB_REQUIRE_SLURM=1 /usr/bin/python3 -m pytest -q -rs executorlab/tests
    if ((${#failed[@]})); then
      say "failed layers: ${failed[*]}"
      exit 1
    fi
    say "all test layers passed"
    ;;
  *)
    echo "usage: bash scripts/dev.sh lab|test" >&2
    exit 2
    ;;
esac
