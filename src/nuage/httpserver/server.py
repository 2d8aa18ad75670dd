"""uvicorn's server as Nuage runs it: shutdown drops idle keep-alive connections at once."""

from __future__ import annotations

from typing import Any

import uvicorn

from nuage.httpserver.protocol import HttpProtocol

__all__ = ["GracefulServer"]


class GracefulServer(uvicorn.Server):
    """uvicorn's server, except that idle keep-alive connections are dropped at once on shutdown:
    a TLS close waits for the client's close_notify, which an idle client never sends."""

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        for conn in list(self.server_state.connections):
            if isinstance(conn, HttpProtocol):
                conn.drop_if_idle()
        await super().shutdown(sockets)
