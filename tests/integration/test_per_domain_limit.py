"""A site's politeness settings hold: ``CONCURRENT_REQUESTS_PER_DOMAIN`` and ``DOWNLOAD_DELAY``, counted at the site.

Scrapy 2.19's downloader, under the asyncio reactor, let every request queued in one loop turn through at
once (crawler/downloader.py): the sitemap connector, which queues a sitemap's pages together, had 11 of 12
pages in flight with a limit of 1. AutoThrottle (on by default) hid it, since a slot with a delay starts one
request per turn; a site with ``AUTOTHROTTLE_ENABLED: false`` got the burst. ``DOWNLOAD_DELAY`` held. The
fixture counts the requests it is answering at once; every answer takes ``DELAY_S``, so two requests allowed
at once do overlap. A test crawl's own settings also beat a
connector's ``custom_settings`` now, as a site's do in the runner (tests/fixtures/crawl.py).
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.crawl import run_connector

pytestmark = pytest.mark.integration

PAGES = 8
DELAY_S = 0.1
HTML = "text/html"


class CountingSite(FixtureServer):
    """``/sitemap.xml`` lists ``/p0.html`` … ``/p7.html``, which ``/`` links too; ``most``: peak overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.most = 0
        self.page_starts: list[float] = []
        self._count = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self._count:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            if request.path.startswith("/p"):
                self.page_starts.append(time.monotonic())
        try:
            time.sleep(DELAY_S)
            return self._answer(request.path)
        finally:
            with self._count:
                self.in_flight -= 1

    def _answer(self, path: str) -> Reply:
        pages = [f"/p{n}.html" for n in range(PAGES)]
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base_url}{p}</loc></url>" for p in pages)
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return Reply(200, xml.encode(), "application/xml")
        if path == "/robots.txt":
            return Reply(404, b"", "text/plain")
        if path == "/":
            links = "".join(f'<a href="{p}">{p}</a> ' for p in pages)
            return Reply(200, f"<html><head><title>Home</title></head><body><main>{links}</main></body></html>", HTML)
        text = f"Page {path} of the counting site, with enough words to be its main content. " * 3
        return Reply(
            200, f"<html><head><title>{path}</title></head><body><main><p>{text}</p></main></body></html>", HTML
        )


def _sitemap(site: CountingSite, **settings: object) -> int:
    result = run_connector("sitemap", {"sitemap_urls": [f"{site.base_url}/sitemap.xml"]}, settings=settings, ping=False)
    return len(result.documents())


def test_the_sitemap_connector_keeps_to_the_per_domain_limit() -> None:
    with CountingSite() as wide:
        assert _sitemap(wide, CONCURRENT_REQUESTS_PER_DOMAIN=3) == PAGES
    # the fixture sees overlap when it is allowed: the limit below is what stops it
    assert 1 < wide.most <= 3
    with CountingSite() as strict:
        assert _sitemap(strict, CONCURRENT_REQUESTS_PER_DOMAIN=1) == PAGES
    assert strict.most == 1


def test_the_sitemap_connector_keeps_to_the_download_delay() -> None:
    with CountingSite() as site:
        assert _sitemap(site, DOWNLOAD_DELAY=0.3, DOWNLOAD_DELAY_JITTER=0) == PAGES
    starts = sorted(site.page_starts)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # times are taken where requests arrive: one that reached the server late shortens the next gap, so
    # the bound leaves room for that noise; without the delay the pages arrive together (gaps near 0)
    assert min(gaps) >= 0.2, gaps
    assert sum(gaps) / len(gaps) >= 0.28, gaps


def test_a_test_crawls_settings_beat_the_web_connectors_custom_settings() -> None:
    """The web connector's polite custom_settings (4 per host) must not replace what the test asked for."""
    with CountingSite() as site:
        result = run_connector(
            "web",
            {"start_urls": [f"{site.base_url}/"], "max_depth": 1, "autothrottle": False},
            settings={"CONCURRENT_REQUESTS_PER_DOMAIN": 1},
        )
    assert len(result.documents()) == PAGES + 1
    assert site.most == 1


def test_a_sitemap_sites_scrapy_settings_hold_through_the_cli(tmp_path: Path) -> None:
    with CountingSite() as site:
        (tmp_path / "settings.yaml").write_text(
            "target: local\n"
            "targets:\n  local: {kind: local, data_dir: index}\n"
            "state_dir: state\n"
            "sites:\n  counted:\n    connector: sitemap\n"
            f"    options: {{sitemap_urls: ['{site.base_url}/sitemap.xml']}}\n"
            # AutoThrottle's delay (on by default) hid the burst: its delay starts one request per turn
            "    scrapy: {CONCURRENT_REQUESTS_PER_DOMAIN: 1, AUTOTHROTTLE_ENABLED: false}\n",
            encoding="utf-8",
        )
        result = run_cli("crawl", "counted", "--full", "--settings", str(tmp_path / "settings.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(site.page_starts) == PAGES
    assert site.most == 1
