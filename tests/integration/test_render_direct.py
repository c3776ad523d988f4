"""Rendering without request interception (connectors.render.direct), in real Chromium, crawled in process: the
browser still sends the crawl's User-Agent and the Referer, ``block`` still keeps images (never asked for:
Blink's imagesEnabled) and fonts (failed by the tab's DevTools session) away from the site while a page's
``fetch()`` goes through, a request carrying another header still gets it onto the browser's
request (scrapy-playwright's intercepting path), and a URL that turns out to be a download is still fetched."""

from __future__ import annotations

from typing import Any

import pytest

from crawler import defaults
from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.crawl import run_connector

pytestmark = [pytest.mark.integration, pytest.mark.browser, NEEDS_CHROMIUM]

PAGES = 4
#: the text arrives by fetch() (the page's own request, which must not be blocked); the image and the font (used
#: by the page's text, so the browser asks for it) must be
PAGE = (
    "<!doctype html><html><head><title>{name}</title><style>@font-face{{font-family:F;src:url(/font/{name}.woff2)}}"
    " body{{font-family:F}}</style><script>fetch('/data/{name}.json').then(r=>r.json()).then(d=>"
    "{{document.getElementById('root').innerHTML='<main><h1>{name}</h1><p>'+d.text+'</p></main>';}});</script>"
    "</head><body><img src='/img/{name}.png' alt=''><div id='root'></div></body></html>"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class FetchingSite(FixtureServer):
    def __init__(self, pdf: bool = False) -> None:
        super().__init__()
        self.pdf = pdf

    def handle(self, request: Request) -> Reply:
        if request.path == "/sitemap.xml":
            urls = [f"{self.base_url}/p/{n}" for n in range(PAGES)] + ([f"{self.base_url}/doc.pdf"] if self.pdf else [])
            locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            return Reply(200, xml, "application/xml")
        if request.path.startswith("/p/"):
            return Reply(200, PAGE.format(name=f"page{request.path[3:]}"), "text/html; charset=utf-8")
        if request.path.startswith("/data/"):
            name = request.path[6:].removesuffix(".json")
            return Reply(200, {"text": f"fetched by script for {name} " + "wallaby " * 40})
        if request.path.startswith("/img/"):
            return Reply(200, b"\x89PNG\r\n\x1a\n", "image/png")
        if request.path.startswith("/font/"):
            return Reply(200, b"wOF2", "font/woff2")
        if request.path == "/doc.pdf":
            return Reply(200, PDF, "application/pdf")
        return Reply(404, "not found", "text/plain")

    def seen(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]


def _crawl(
    site: FetchingSite, settings: dict[str, object] | None = None, wait_for: str = "main"
) -> tuple[dict[str, str], dict[str, Any]]:
    options = {
        "sitemap_urls": [f"{site.base_url}/sitemap.xml"],
        # main: wait for the fetched text (load does not wait for fetch())
        "render": {"mode": "always", "max_concurrent": 2, "block": ["image", "font"], "wait_for": wait_for},
    }
    result = run_connector("sitemap", options, settings={"CONCURRENT_REQUESTS": 4, **(settings or {})})
    texts = {
        d.removeprefix(site.base_url): str(i.get("html") or i.get("text") or "") for d, i in result.documents().items()
    }
    return texts, result.stats


def test_without_interception_the_browser_still_sends_the_crawl_identity_and_blocks_images() -> None:
    with FetchingSite() as site:
        texts, stats = _crawl(site)
    for n in range(PAGES):
        assert f"fetched by script for page{n} " in texts[f"/p/{n}"]
    assert stats["pushcrawl/render/rendered"] == PAGES
    assert "pushcrawl/render/intercepted" not in stats  # every page took the direct path
    # block: no image and no font reached the site, yet each page's fetch() did; all were the browser's requests
    assert site.seen("/img/") == [] and site.seen("/font/") == []
    # the fonts were asked for and failed, one a page; the images never asked for (nothing to fail)
    assert stats["playwright/request_count/aborted"] == PAGES
    # mode always: every document request is the browser's (Chromium's Sec-Fetch headers; Scrapy sends none)
    documents, fetched = site.seen("/p/"), site.seen("/data/")
    assert len(documents) == PAGES and len(fetched) == PAGES
    assert all(r.headers.get("sec-fetch-mode") == "navigate" for r in documents)
    # the crawl's User-Agent, not Chromium's, on the document and on the page's own requests
    for request in [*documents, *fetched]:
        assert request.headers.get("user-agent") == defaults.SCRAPY["USER_AGENT"]
    # with the Referer Scrapy would send (the sitemap's URL)
    assert {r.headers.get("referer") for r in documents} == {f"{site.base_url}/sitemap.xml"}


def test_a_request_with_its_own_header_goes_through_interception_and_keeps_it() -> None:
    with FetchingSite() as site:
        texts, stats = _crawl(site, {"DEFAULT_REQUEST_HEADERS": {"X-Team": "numbat"}})
    assert all(f"fetched by script for page{n} " in texts[f"/p/{n}"] for n in range(PAGES))
    assert stats["pushcrawl/render/intercepted"] == PAGES
    documents = site.seen("/p/")
    assert len(documents) == PAGES and {r.headers.get("x-team") for r in documents} == {"numbat"}
    assert site.seen("/img/") == [] and site.seen("/font/") == []  # scrapy-playwright's own abort hook blocks there


def test_a_download_is_fetched_through_interception() -> None:
    with FetchingSite(pdf=True) as site:
        texts, stats = _crawl(site, wait_for="load")  # a download has no DOM to wait for a selector in
    assert "/doc.pdf" in texts and "pushcrawl/dropped/render_timeout" not in stats
    assert stats["pushcrawl/render/intercepted"] == 1  # the PDF only; the pages took the direct path
    assert stats["pushcrawl/render/rendered"] == PAGES + 1
