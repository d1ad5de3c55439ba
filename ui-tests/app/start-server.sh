#!/bin/sh
# Serve the assembled JupyterLab with executorlab, in the foreground, with Debian's Python.
#
#   start-server.sh PORT ROOT_DIR [extra jupyter_server args]
#
# Authentication, through JLAB_TOKEN:
#   unset      no token and no XSRF check, as galata expects (UI tests only; binds 127.0.0.1)
#   generate   Jupyter generates a token and prints the URL to open (demo)
#   any other  that token
# A --ServerApp.token=... among the extra args also works (JLAB_TOKEN is then ignored).
# Other extra args are passed on, e.g. --ServerApp.ip=0.0.0.0 (jupyter_server rejects an
# option given twice, so do not repeat --port or --ServerApp.root_dir).
# JLAB_STATIC_DIR=build-federated serves the module-federation host (prebuilt labextension).
set -eu
PORT="${1:?usage: start-server.sh PORT ROOT_DIR [args...]}"
ROOT_DIR="${2:?usage: start-server.sh PORT ROOT_DIR [args...]}"
shift 2

APP_DIR="$(cd "$(dirname "$0")" && pwd)"
REPO_DIR="$(cd "$APP_DIR/../.." && pwd)"
ROOT_DIR="$(cd "$ROOT_DIR" && pwd)"

# The server extension and the kernels it starts import executorlab from this checkout.
export PYTHONPATH="$REPO_DIR${PYTHONPATH:+:$PYTHONPATH}"
export JUPYTER_NO_CONFIG=1
export PYDEVD_DISABLE_FILE_VALIDATION=1  # ipykernel's debugpy warns about frozen modules

TOKEN_MODE="${JLAB_TOKEN-}"
for arg in "$@"; do
  case "$arg" in --ServerApp.token=*|--token=*) TOKEN_MODE=caller ;; esac
done
case "$TOKEN_MODE" in
  "") set -- --ServerApp.token= --ServerApp.password= --ServerApp.disable_check_xsrf=True "$@" ;;
  generate|caller) ;;
  *) set -- "--ServerApp.token=$TOKEN_MODE" "$@" ;;
esac

cd "$APP_DIR"
exec /usr/bin/python3 main.py --port="$PORT" --ServerApp.port_retries=0 --ip=127.0.0.1 \
  --no-browser --allow-root --ServerApp.root_dir="$ROOT_DIR" "$@"
