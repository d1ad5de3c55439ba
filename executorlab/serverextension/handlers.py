"""``<base_url>executorlab/api/...``: the bridge's REST and WebSocket API behind Jupyter's authentication."""

import json

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.zmqhandlers import WebSocketMixin
from tornado import httpclient, web, websocket
from tornado.httputil import url_concat

MAX_BODY = 10 * 1024 * 1024


def _bridge_unavailable(handler) -> None:
    handler.set_status(503)
    handler.finish(json.dumps({"error": "the executorlab bridge is not running; it is being restarted, try again"}))


class BridgeProxyHandler(APIHandler):
    """Forwards REST calls to the bridge with its token; the browser never sees the token."""

    @property
    def supervisor(self):
        return self.settings["executorlab_supervisor"]

    async def _forward(self, path: str) -> None:
        info = self.supervisor.info()
        if info is None:
            return _bridge_unavailable(self)
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        if body is not None and len(body) > MAX_BODY:
            raise web.HTTPError(413, f"request body larger than {MAX_BODY} bytes")
        request = httpclient.HTTPRequest(
            url_concat(f"{info['http_url']}/api/{path}", {k: self.get_argument(k) for k in self.request.arguments if k != "token"}),
            method=self.request.method,
            headers={"Authorization": f"token {info['token']}", "Content-Type": "application/json"},
            body=body,
            request_timeout=60,
        )
        try:
            response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError:
            return _bridge_unavailable(self)
        if response.code == 599:
            return _bridge_unavailable(self)
        self.set_status(response.code)
        self.set_header("Content-Type", response.headers.get("Content-Type", "application/json"))
        self.finish(response.body)

    @web.authenticated
    async def get(self, path):
        await self._forward(path)

    @web.authenticated
    async def post(self, path):
        await self._forward(path)

    @web.authenticated
    async def delete(self, path):
        await self._forward(path)


class BridgeEventsHandler(WebSocketMixin, websocket.WebSocketHandler, JupyterHandler):
    """Relays the bridge's event WebSocket to the browser, one upstream connection per browser socket."""

    upstream = None

    async def get(self, *args, **kwargs):
        if self.current_user is None:
            raise web.HTTPError(403)
        return await super().get(*args, **kwargs)

    async def open(self):
        super().open()
        info = self.settings["executorlab_supervisor"].info()
        if info is None:
            self.close(1013, "executorlab bridge is restarting")
            return
        request = httpclient.HTTPRequest(
            info["http_url"].replace("http://", "ws://", 1) + "/api/events",
            headers={"Authorization": f"token {info['token']}"},
        )
        try:
            self.upstream = await websocket.websocket_connect(request, on_message_callback=self._from_bridge)
        except (OSError, httpclient.HTTPClientError) as error:
            self.log.warning("executorlab | cannot reach the bridge's event socket: %s", error)
            self.close(1013, "executorlab bridge unreachable")

    def _from_bridge(self, message) -> None:
        if message is None:  # the bridge went away: let the browser reconnect to the next one
            if self.ws_connection is not None:
                self.close(1012, "executorlab bridge restarted")
            return
        try:
            self.write_message(message)
        except websocket.WebSocketClosedError:
            pass

    def on_message(self, message):
        pass  # the browser only listens; actions go through REST

    def on_close(self):
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None
