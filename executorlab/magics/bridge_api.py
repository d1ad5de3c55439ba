"""The bridge's HTTP API as the Executors panel uses it, called from the kernel with the connection file's
token, so ``%executor`` does exactly what the panel does."""

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional

from executorlab.client.connection import get_client

TIMEOUT = 30.0


class BridgeApiError(Exception):
    """The bridge refused a request; the message is its own."""


def call(method: str, path: str, body: Optional[dict] = None, query: Optional[dict] = None):
    """The JSON reply of ``method path`` (``/api/...``); BridgeApiError with the bridge's message if refused."""
    info = get_client().info
    url = info["http_url"].rstrip("/") + path
    if query:
        url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"token {info['token']}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as reply:
            return json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            message = json.loads(error.read()).get("error")
        except ValueError:
            message = None
        raise BridgeApiError(message or f"{method} {path} failed with HTTP {error.code}") from None
