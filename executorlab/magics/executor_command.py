"""``%executor``: the Executors panel's operations as a line magic."""

import datetime
import os

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from executorlab.magics import bridge_api
from executorlab.magics.bridge_api import BridgeApiError

BACKENDS = ("local", "slurm", "flux", "slurm-cluster", "flux-cluster")


def _parser() -> MagicArgumentParser:
    parser = MagicArgumentParser(prog="%executor", description="The Executors panel's operations.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("status", help="where the bridge runs, its executors and tasks, and the current executor")
    commands.add_parser("list", help="the bridge's executors")
    use = commands.add_parser("use", help="make NAME the executor %%%%submit uses")
    use.add_argument("name", metavar="NAME", help="a variable holding an executor, or an executor started from the panel")
    start = commands.add_parser("start", help="start an executor in the bridge (as the panel's New executor does) and use it")
    start.add_argument("--backend", required=True, choices=BACKENDS, metavar="B", help=f"one of {', '.join(BACKENDS)}")
    start.add_argument("--max-cores", required=True, type=int, metavar="N", help="cores its calls may use at once")
    start.add_argument("--name", help="its name (default: the backend and a number)")
    start.add_argument("--block-allocation", action="store_true", help="keep warm workers")
    start.add_argument("--cache-directory", metavar="DIR", help="cache its results in DIR")
    stop = commands.add_parser("stop", help="stop an executor started from the panel; its unstarted calls are cancelled")
    stop.add_argument("name", metavar="NAME")
    cache = commands.add_parser("cache", help="list or clean a cache directory")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="list|clean", required=True)
    listing = cache_commands.add_parser("list", help="the cache files, newest first")
    listing.add_argument("directory", nargs="?", metavar="DIR", help="default: the current executor's cache directory")
    listing.add_argument("--limit", type=int, default=50, metavar="N", help="show at most N entries (default 50)")
    clean = cache_commands.add_parser("clean", help="delete cache files (all, the failed ones, or older ones)")
    clean.add_argument("directory", nargs="?", metavar="DIR", help="default: the current executor's cache directory")
    which = clean.add_mutually_exclusive_group()
    which.add_argument("--failed", action="store_true", help="only the files of failed calls")
    which.add_argument("--older-than", type=float, metavar="DAYS", help="only files not modified for DAYS days")
    clean.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")
    return parser


PARSER = _parser()

HELP = """Operate the executorlab bridge as the Executors panel does.

    %executor status
    %executor list
    %executor use NAME
    %executor start --backend B --max-cores N [--name NAME] [--block-allocation] [--cache-directory DIR]
    %executor stop NAME
    %executor cache list [DIR] [--limit N]
    %executor cache clean [DIR] [--failed | --older-than DAYS] [--dry-run]

B is one of local, slurm, flux, slurm-cluster, flux-cluster. NAME is a variable holding an executor or
the name of an executor started from the panel. DIR defaults to the current executor's cache directory.
"""


def run(magics, line: str):
    options = PARSER.parse_argstring(line)
    try:
        return COMMANDS[options.command](magics, options)
    except BridgeApiError as error:
        raise UsageError(f"%executor {options.command}: {error}") from None


def _table(rows: list, header: list) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows])


def _owner(view: dict, client_id: str) -> str:
    if view["client_id"] == "panel":
        return "panel"
    return "this kernel" if view["client_id"] == client_id else "another kernel"


def _executors_table(magics) -> str:
    from executorlab.client.connection import get_client

    client_id = get_client().client_id
    executors = [e for e in bridge_api.call("GET", "/api/executors")["executors"] if not e["shutdown"]]
    if not executors:
        return "no executors running"
    rows = [
        [e["name"], e["backend"], f"{e['cores_in_use']}/{e['max_cores'] or 'any'}", e["running"], e["unfinished"],
         _owner(e, client_id)]
        for e in executors
    ]
    return _table(rows, ["NAME", "BACKEND", "CORES", "RUNNING", "UNFINISHED", "OWNER"])


def _placement(status: dict) -> str:
    place = status.get("placement") or {}
    kind = place.get("kind")
    if kind == "slurm":
        return f"inside SLURM job {place['job_id']} ({place['nodes']} nodes, {place['cpus']} CPUs)"
    if kind == "flux":
        return f"inside the flux instance {place.get('uri')}"
    if kind == "local":
        return f"on {place['hostname']} ({place['cpus']} CPUs, {place['gpus']} GPUs)"
    return "placement not detected yet"


def _status(magics, options) -> None:
    status = bridge_api.call("GET", "/api/status")
    tasks = bridge_api.call("GET", "/api/tasks")["tasks"]
    counts = {}
    for task in tasks:
        counts[task["state"]] = counts.get(task["state"], 0) + 1
    try:
        current = magics.choice.describe(magics.choice.current())
    except UsageError as error:
        current = f"none ({error})"
    print(f"bridge: pid {status['pid']}, runs {_placement(status)}")
    print(f"current executor: {current}")
    print(_executors_table(magics))
    print("tasks: " + (", ".join(f"{n} {state}" for state, n in counts.items()) or "none"))


def _list(magics, options) -> None:
    print(_executors_table(magics))


def _use(magics, options) -> None:
    executor = magics.choice.use(options.name)
    print(f"%%submit uses {magics.choice.describe(executor)} now")


def _start(magics, options) -> None:
    if options.max_cores < 1:
        raise UsageError(f"argument --max-cores: must be an integer ≥ 1, got {options.max_cores}")
    names = {e["name"] for e in bridge_api.call("GET", "/api/executors")["executors"] if not e["shutdown"]}
    name = options.name
    if name is None:
        number = 1
        while f"{options.backend}-{number}" in names:
            number += 1
        name = f"{options.backend}-{number}"
    body = {"name": name, "backend": options.backend, "max_cores": options.max_cores,
            "block_allocation": options.block_allocation,
            "cache_directory": os.path.abspath(options.cache_directory) if options.cache_directory else None}
    view = bridge_api.call("POST", "/api/executors", body)["executor"]
    magics.choice.use(name)
    print(f"started {name!r} ({view['backend']}, {options.max_cores} cores); %%submit uses it now")


def _stop(magics, options) -> None:
    executors = bridge_api.call("GET", "/api/executors")["executors"]
    found = [e for e in executors if e["name"] == options.name and e["client_id"] == "panel" and not e["shutdown"]]
    if not found:
        panel = sorted(e["name"] for e in executors if e["client_id"] == "panel" and not e["shutdown"])
        hint = (f"; in this notebook call {options.name}.shutdown()"
                if options.name in magics.choice.notebook_executors() else "")
        raise UsageError(
            f"no executor {options.name!r} started from the panel is running "
            f"(running: {', '.join(map(repr, panel)) or 'none'}){hint}"
        )
    bridge_api.call("POST", f"/api/executors/{found[0]['id']}/shutdown", {})
    if magics.choice.current_name == options.name:
        magics.choice.current_name = None
    print(f"stopped {options.name!r}")


def _cache_directory(magics, given) -> str:
    if given:
        return os.path.abspath(given)
    try:
        directory = magics.choice.current()._cache_directory
    except UsageError:
        directory = None
    if directory:
        return directory
    known = bridge_api.call("GET", "/api/cache/directories")["directories"]
    if len(known) == 1:
        return known[0]
    raise UsageError(
        "which cache directory? the current executor has none; give DIR"
        + (f" (known to the bridge: {', '.join(known)})" if known else "")
    )


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def _cache(magics, options) -> None:
    directory = _cache_directory(magics, options.directory)
    if options.cache_command == "list":
        if options.limit < 1:
            raise UsageError(f"argument --limit: must be an integer ≥ 1, got {options.limit}")
        page = bridge_api.call("GET", "/api/cache", query={"directory": directory, "limit": min(options.limit, 1000)})
        print(f"{directory}: {page['total']} files, {_size(page['total_bytes'])}")
        rows = [
            [e["file"], e["function"], e["status"], _size(e["size"]),
             datetime.datetime.fromtimestamp(e["modified"]).strftime("%Y-%m-%d %H:%M"), (e["result"] or "")[:40]]
            for e in page["entries"]
        ]
        if rows:
            print(_table(rows, ["FILE", "FUNCTION", "STATUS", "SIZE", "MODIFIED", "RESULT"]))
        if page["total"] > len(rows):
            print(f"… and {page['total'] - len(rows)} more (--limit N)")
        return
    if options.older_than is not None and options.older_than < 0:
        raise UsageError(f"argument --older-than: must be a number of days ≥ 0, got {options.older_than}")
    mode = "failed" if options.failed else "older" if options.older_than is not None else "all"
    body = {"directory": directory, "mode": mode, "dry_run": options.dry_run}
    if options.older_than is not None:
        body["days"] = options.older_than
    reply = bridge_api.call("POST", "/api/cache/clean", body)
    verb = "would delete" if reply["dry_run"] else "deleted"
    kept = f"; {reply['kept_in_use']} kept because their calls are unfinished" if reply["kept_in_use"] else ""
    print(f"{verb} {reply['count']} files ({_size(reply['bytes'])}) in {directory}{kept}")


COMMANDS = {"status": _status, "list": _list, "use": _use, "start": _start, "stop": _stop, "cache": _cache}
