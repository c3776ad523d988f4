"""Rendered pages progress while the crawl's reactor is busy: Playwright runs on a loop of its own
(connectors.render.loop), in real Chromium, crawled in process.

The crawl's reactor is blocked (a downloader middleware sleeping in ``process_response``, as a long parse or
extraction holds it) while six pages wait in the browser's queue, rendered one after another
(``max_concurrent: 1``): Chromium asks the site for a page only once the page before it was rendered and read
back, so the site seeing several of them *during* the block proves whole renders finished meanwhile. With
Playwright on the reactor's loop not one render could finish: the block then runs out its time (BLOCK_MAX_S)
with at most the page already navigating requested. Nothing here is timed but that generous cap.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

import pytest
from scrapy import Request as ScrapyRequest
from scrapy.crawler import Crawler
from scrapy.http import Response

from connectors.render.options import RENDER_SLOT
from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.crawl import run_connector

pytestmark = [pytest.mark.integration, pytest.mark.browser, NEEDS_CHROMIUM]

PAGES = 6
#: the longest the reactor is held; renders on their own loop need a fraction of it
BLOCK_MAX_S = 30.0
SHELL = (
    "<!doctype html><html><head><title>{name}</title><script>document.addEventListener('DOMContentLoaded',()=>"
    "{{document.getElementById('root').innerHTML='<main><h1>{name}</h1><p>written by script for {name} '"
    "+'wombat '.repeat(40)+'</p></main>';}});</script></head><body><div id='root'></div></body></html>"
)
PLAIN = "<!doctype html><html><head><title>busy</title></head><body><main><p>" + "plain words " * 40 + "</p></main>"


class BusySite(FixtureServer):
    def handle(self, request: Request) -> Reply:
        if request.path == "/sitemap.xml":
            paths = ["/busy"] + [f"/r/{n}" for n in range(PAGES)]
            urls = "".join(f"<url><loc>{self.base_url}{p}</loc></url>" for p in paths)
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return Reply(200, xml, "application/xml")
        if request.path.startswith("/r/"):
            return Reply(200, SHELL.format(name=f"page{request.path[3:]}"), "text/html; charset=utf-8")
        if request.path == "/busy":
            return Reply(200, PLAIN + "</body></html>", "text/html; charset=utf-8")
        return Reply(404, "not found", "text/plain")

    def rendered(self) -> list[str]:
        """The rendered pages asked for so far (only the browser asks for them: ``url_patterns``)."""
        return [r.path for r in self.hits("/r/")]


class BlockTheReactor:
    """Downloader middleware: on the plain page ``/busy``, once every rendered request is with the download
    handler, block the reactor's thread until the site was asked for every rendered page (or BLOCK_MAX_S)."""

    site: ClassVar[BusySite | None] = None
    #: rendered pages the site had been asked for when the block began, and when it ended
    at_start: ClassVar[list[str]] = []
    at_end: ClassVar[list[str]] = []

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockTheReactor:
        return cls(crawler)

    async def process_response(self, request: ScrapyRequest, response: Response) -> Response:
        site = self.site
        if site is None or not request.url.endswith("/busy"):
            return response
        engine = self.crawler.engine
        assert engine is not None
        waited = time.monotonic() + BLOCK_MAX_S
        # not blocking yet: the rendered requests reach the handler through the reactor
        while time.monotonic() < waited:
            slot = engine.downloader.slots.get(RENDER_SLOT)
            if slot is not None and len(slot.transferring) == PAGES and site.rendered():
                break
            await asyncio.sleep(0.02)
        type(self).at_start = site.rendered()
        held = time.monotonic() + BLOCK_MAX_S
        while len(site.rendered()) < PAGES and time.monotonic() < held:
            time.sleep(0.02)  # the reactor's thread held, as by a long parse
        type(self).at_end = site.rendered()
        return response


def test_pages_render_while_the_reactor_is_blocked() -> None:
    with BusySite() as site:
        BlockTheReactor.site = site
        options = {
            "sitemap_urls": [f"{site.base_url}/sitemap.xml"],
            "render": {"mode": "always", "url_patterns": ["/r/"], "max_concurrent": 1},
        }
        settings = {
            "DOWNLOADER_MIDDLEWARES": {f"{__name__}.BlockTheReactor": 950},
            # every rendered request handed to the handler at once; its own semaphore renders one at a time
            "DOWNLOAD_SLOTS": {RENDER_SLOT: {"concurrency": PAGES, "delay": 0}},
        }
        try:
            result = run_connector("sitemap", options, settings=settings)
        finally:
            BlockTheReactor.site = None
    started, ended = BlockTheReactor.at_start, BlockTheReactor.at_end
    assert started, "the block began before the first render did: nothing was measured"
    # pages asked for while the reactor was held: at least two more than when it began, so at least one render
    # went from navigation to its DOM read back (and the next one started) without the reactor
    assert len(ended) - len(started) >= 2, (started, ended)
    assert len(ended) == PAGES
    texts = {
        d.removeprefix(site.base_url): str(i.get("html") or i.get("text") or "") for d, i in result.documents().items()
    }
    assert sorted(texts) == sorted(["/busy"] + [f"/r/{n}" for n in range(PAGES)])
    for n in range(PAGES):
        assert f"written by script for page{n} " in texts[f"/r/{n}"]
    assert result.stats["pushcrawl/render/rendered"] == PAGES
    # one handler for http and https (PagePoolHandler.from_crawler): one Playwright driver started, not two
    assert result.log.count("Starting download handler") == 1, result.log
