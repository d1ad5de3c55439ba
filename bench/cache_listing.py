#!/usr/bin/python3
"""Listing a cache directory of N entries through the bridge's API vs executorlib's get_cache_data.

The entries are written by executorlab (N cached calls, ``cache_key`` entry-00000...). Then, against a
bridge started for this listing (as after a restart of the Jupyter server):
- first page: ``GET /api/cache?directory=DIR&limit=100`` (newest first), the first request the bridge gets
  for DIR. Target: <= 100 ms.
- whole directory: every entry, pages of 1000 sorted by function (a sort that needs every file's facts).
  Target: <= 1 s.
Both with the summaries the bridge kept when it wrote the files (``~/.cache/executorlab/cache-index``), and,
for information, "cold": a bridge that never saw the directory (summaries read from each file with h5wasm).
Peer: executorlib's ``get_cache_data(DIR)`` (h5py, unpickles every dataset), in this script.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import _common as c

FIRST_PAGE_TARGET = 0.1
WHOLE_TARGET = 1.0
PAGE = 1000


def entry(i):
    return i


def start_bridge(folder: str, xdg_cache: str):
    from executorlab.client import bridge_process

    connection_file = os.path.join(folder, "bridge.json")
    process = subprocess.Popen(bridge_process.bridge_command(connection_file), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "XDG_CACHE_HOME": xdg_cache})
    return process, bridge_process.wait_for_connection_file(connection_file, 30, process)


def get(info: dict, **query) -> dict:
    request = urllib.request.Request(f"{info['http_url']}/api/cache?{urllib.parse.urlencode(query)}")
    request.add_header("Authorization", f"token {info['token']}")
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def list_everything(info: dict, directory: str) -> int:
    seen, offset = 0, 0
    while True:
        page = get(info, directory=directory, sort="function", limit=PAGE, offset=offset)
        seen += len(page["entries"])
        offset += PAGE
        if offset >= page["total"]:
            return seen


def timed_listing(folder: str, directory: str, xdg_cache: str, n: int) -> tuple:
    from executorlab.client import bridge_process

    process, info = start_bridge(folder, xdg_cache)
    try:
        t0 = c.now()
        first = get(info, directory=directory, limit=100)
        t1 = c.now()
        seen = list_everything(info, directory)
        t2 = c.now()
    finally:
        bridge_process.stop_process(process)
    assert first["total"] == n and len(first["entries"]) == 100 and seen == n, (first["total"], seen)
    return t1 - t0, t2 - t1


def executorlib_listing(directory: str) -> tuple:
    # executorlib's get_cache_data, as executorlab ships it (same code path: h5py, every dataset unpickled).
    from executorlab.cache.hdf import get_cache_data

    t0 = c.now()
    data = get_cache_data(directory)
    return c.now() - t0, len(data)


def main() -> None:
    args = c.parse_args(__doc__.splitlines()[0], full=10_000, quick=1_000, what="cache entries")
    names = (f"cache listing, {args.n} entries: first page", f"cache listing, {args.n} entries: whole directory")
    c.header(f"cache listing, {args.n} entries", args)
    work = tempfile.mkdtemp(prefix="executorlab-bench-listing-")
    directory = os.path.join(work, "cache")
    xdg_cache = os.path.join(work, "xdg-cache")
    os.environ["XDG_CACHE_HOME"] = xdg_cache  # the private bridge that writes the entries keeps their summaries here
    try:
        from executorlab import SingleNodeExecutor

        t0 = c.now()
        with SingleNodeExecutor(max_workers=2, block_allocation=True) as executor:
            futures = [executor.submit(entry, i, resource_dict={"cache_key": f"entry-{i:05d}", "cache_directory": directory})
                       for i in range(args.n)]
            for future in futures:
                future.result()
        deadline = time.monotonic() + 600
        while len([f for f in os.listdir(directory) if f.endswith("_o.h5")]) < args.n and time.monotonic() < deadline:
            time.sleep(0.1)
        c.say(f"wrote {args.n} entries through executorlab in {c.ms(c.now() - t0)}")
        time.sleep(1.5)  # the writing bridge saves its summaries at most once a second
        from executorlab.client import bridge_process

        if bridge_process._private is not None:
            bridge_process._private.stop()  # as the end of the session would: its index is saved
        peer, count = executorlib_listing(directory)
        c.say(f"peer: executorlib's get_cache_data: {count} entries in {c.ms(peer)}")
        first, whole = timed_listing(work, directory, xdg_cache, args.n)
        c.say(f"executorlab, summaries kept: first page {c.ms(first)}, whole directory {c.ms(whole)}")
        cold_first, cold_whole = timed_listing(work, directory, os.path.join(work, "empty-xdg"), args.n)
        c.say(f"executorlab, cold (summaries read from every file): first page {c.ms(cold_first)}, whole directory {c.ms(cold_whole)}")
        c.report(args, names[0], c.ms(first), f"{c.ms(peer)} (get_cache_data, everything)", c.times(first / peer),
                 f"<= {c.ms(FIRST_PAGE_TARGET)}", first <= FIRST_PAGE_TARGET)
        c.report(args, names[1], c.ms(whole), c.ms(peer), c.times(whole / peer), f"<= {c.ms(WHOLE_TARGET)}", whole <= WHOLE_TARGET)
        c.report(args, f"cache listing, {args.n} entries, cold: whole directory", c.ms(cold_whole), c.ms(peer),
                 c.times(cold_whole / peer), "information", "n/a")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
