"""ping() of the sitemap and web connectors: clear errors for a missing file, a 404, a non-sitemap, non-HTML."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from connectors.sitemap.spider import SitemapConnector, SitemapOptions
from connectors.web.spider import WebConnector, WebOptions
from crawler.errors import ConnectorError
from tests.conftest import DEMO, SAMPLES

PAGES = {
    "/sitemap.xml": ("application/xml", (SAMPLES / "sitemap" / "urlset.xml").read_bytes()),
    "/not-a-sitemap.xml": ("text/html", b"<html><body>Welcome</body></html>"),
    "/page.html": ("text/html; charset=utf-8", b"<html><body><a href='/x'>x</a></body></html>"),
    "/data.json": ("application/json", b"{}"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ctype, body = PAGES.get(self.path, ("text/plain", b""))
        self.send_response(200 if self.path in PAGES else 404)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_sitemap_ping_accepts_local_and_remote_sitemaps(site: str) -> None:
    SitemapConnector.ping(SitemapOptions(sitemap_urls=[(DEMO / "sitemap.xml").as_uri(), f"{site}/sitemap.xml"]))


@pytest.mark.parametrize(
    ("path", "message"),
    [("/missing.xml", "sitemap not found"), ("/not-a-sitemap.xml", "is not a sitemap")],
)
def test_sitemap_ping_names_what_is_wrong(site: str, path: str, message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        SitemapConnector.ping(SitemapOptions(sitemap_urls=[f"{site}{path}"]))


def test_sitemap_ping_warns_when_only_some_sitemaps_fail(site: str, caplog: pytest.LogCaptureFixture) -> None:
    SitemapConnector.ping(SitemapOptions(sitemap_urls=[f"{site}/sitemap.xml", f"{site}/missing.xml"]))
    assert "missing.xml" in caplog.text and "nothing is deleted" in caplog.text


def test_sitemap_ping_missing_local_file(tmp_path: Path) -> None:
    with pytest.raises(ConnectorError, match="does not exist"):
        SitemapConnector.ping(SitemapOptions(sitemap_urls=[(tmp_path / "nope.xml").as_uri()]))


def test_web_ping(site: str) -> None:
    WebConnector.ping(WebOptions(start_urls=[f"{site}/page.html"]))
    with pytest.raises(ConnectorError, match="not HTML"):
        WebConnector.ping(WebOptions(start_urls=[f"{site}/data.json"]))
    with pytest.raises(ConnectorError, match="HTTP 404"):
        WebConnector.ping(WebOptions(start_urls=[f"{site}/gone.html"]))
    with pytest.raises(ConnectorError, match="cannot reach"):
        WebConnector.ping(WebOptions(start_urls=["http://127.0.0.1:9/"]))
