"""Serving under a path prefix (SAYFILE_ROOT_PATH): the prefix put into each request's ASGI
scope, where every link sayfile makes reads it, and the path a request names below it."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class PathPrefix:
    """Serves the app under `prefix` (`/tts`). The scope's `root_path` becomes the prefix, so
    links (`deps.base_path`, the page, the API manual, OpenAPI's `servers`, redirects) start
    with it; its `path` is the full path, prefix included, as ASGI servers give it. A path
    without the prefix gets it: a proxy that strips the prefix (`proxy_pass .../;`) and one
    that passes it on, or a visit to the server itself, are all served alike."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.prefix or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        scope = {**scope, "root_path": self.prefix}
        if not _under(path, self.prefix):
            scope["path"] = self.prefix + path
            raw_path: bytes | None = scope.get("raw_path")
            if raw_path is not None:
                scope["raw_path"] = self.prefix.encode("ascii") + raw_path
        await self.app(scope, receive, send)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def route_path(scope: Scope) -> str:
    """The path a request names below the prefix (`/jobs` for `/tts/jobs`), which is what
    routes, and the middleware's choices by path, are written against."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and _under(path, root_path):
        return path[len(root_path) :] or "/"
    return path
