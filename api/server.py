"""The HTTP server: uvicorn, with every wait of a client bounded.

uvicorn waits for ever for a request's headers: a client that opens connections and sends
half a request line each (slowloris) held 300 of them for as long as it liked. Here a
connection must send a whole request's headers within the request timeout of its first byte
(or of connecting), or it is closed; its body is then bounded by the Guard
(api/middleware.py). At most ``max_connections`` connections and requests are served at once
(uvicorn's ``limit_concurrency``: beyond them, a request is answered 503), and an idle
keep-alive connection is closed after 5 s. The server does not name itself (no ``server``
header), and logs through the service's one-line formatter (api/logs.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.logs import log_config
from api.settings import Settings

KEEP_ALIVE_SECONDS = 5


class BoundedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request's headers do not all
    arrive within the request timeout."""

    headers_timeout: float = 20.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headers_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_headers():
            if self._headers_due is None:  # the first bytes of a request on a kept-alive one
                self._await_headers()
        else:
            self._headers_arrived()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def _waiting_for_headers(self) -> bool:
        return self.conn.their_state is h11.IDLE and not self.transport.is_closing()

    def _await_headers(self) -> None:
        self._headers_due = self.loop.call_later(self.headers_timeout, self._headers_too_slow)

    def _headers_arrived(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_too_slow(self) -> None:
        self._headers_due = None
        if self._waiting_for_headers():
            self.transport.close()


def protocol(settings: Settings) -> type[BoundedH11Protocol]:
    """The protocol class with this service's headers timeout."""
    return type(
        "BoundedH11Protocol",
        (BoundedH11Protocol,),
        {"headers_timeout": settings.request_timeout_seconds},
    )


def run(app: Any, settings: Settings) -> None:
    """Serves ``app`` until interrupted."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        http=protocol(settings),
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
        log_config=log_config(settings.log_level, settings.log_format),
        log_level=settings.log_level,
    )
