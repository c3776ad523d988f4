"""A fixture web server for the bad-input corpus: pages that break crawlers, on 127.0.0.1 (port 0).

It is not built on ``tests.fixtures.base`` because several cases need control below a complete reply: a
body shorter than its ``Content-Length`` (a truncated transfer), a 300 MB file produced on the fly (never held
in memory, with or without ``Content-Length``), raw bytes that are not what the headers claim.

Each case is a ``Case(path, expected outcome, ...)`` in ``corpus.CASES``; the server serves ``/sitemap.xml``
(listing every case of the main site) and each case's body.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

CHUNK = 1024 * 1024


@dataclass
class Body:
    """What to send: bytes, or ``size`` bytes produced in chunks; ``announce`` overrides Content-Length."""

    data: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    size: int | None = None  # produced on the fly
    announce: int | None = None  # Content-Length sent (None: the real length; -1: none, close at end)
    status: int = 200

    def chunks(self) -> Iterator[bytes]:
        if self.size is None:
            yield self.data
            return
        block = (b"%PDF-1.4\n" + b"0" * (CHUNK - 9))[:CHUNK]
        left = self.size
        while left > 0:
            yield block[: min(CHUNK, left)]
            left -= CHUNK


class CorpusServer:
    def __init__(self, routes: Callable[[str], dict[str, Body]]) -> None:
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.routes = routes(self.base_url)
        self.sent: dict[str, int] = {}  # path → bytes written (the oversized file must not be read through)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a crawler hanging up on the oversized file is the point of that case


def _handler(server: CorpusServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body = server.routes.get(path) or Body(b"<html><body>not found</body></html>", status=404)
            length = len(body.data) if body.size is None else body.size
            self.send_response(body.status)
            self.send_header("Content-Type", body.content_type)
            if body.announce == -1:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(body.announce if body.announce is not None else length))
            for key, value in body.headers.items():
                self.send_header(key, value)
            self.end_headers()
            written = 0
            for chunk in body.chunks():
                self.wfile.write(chunk)
                written += len(chunk)
                server.sent[path] = written
            if body.announce is not None:  # truncated or unannounced: the connection's end ends the body
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
