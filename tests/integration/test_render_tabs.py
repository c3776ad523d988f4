"""Rendered tabs are reused (connectors.render.handler), in real Chromium, crawled in process: a tab navigates to
the next page instead of a new tab per page, yet every page keeps its own content and its own script errors,
contexts are still recycled and closed, and more requests than ``max_concurrent`` never wait forever for a tab."""

from __future__ import annotations

import pytest

from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.crawl import run_connector

pytestmark = [pytest.mark.integration, pytest.mark.browser, NEEDS_CHROMIUM]

PAGES = 12
#: the text exists only once the script ran, and then the script throws (one uncaught error per page)
THROWING = (
    "<!doctype html><html><head><title>{name}</title><script>document.addEventListener('DOMContentLoaded',()=>"
    "{{document.getElementById('root').innerHTML='<main><h1>{name}</h1><p>written by script for {name} '"
    "+'quokka '.repeat(40)+'</p></main>'; throw new Error('after {name}');}});</script></head>"
    "<body><div id='root'></div></body></html>"
)


class ThrowingSite(FixtureServer):
    def handle(self, request: Request) -> Reply:
        if request.path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base_url}/p/{n}</loc></url>" for n in range(PAGES))
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return Reply(200, xml, "application/xml")
        if request.path.startswith("/p/"):
            return Reply(200, THROWING.format(name=f"page{request.path[3:]}"), "text/html; charset=utf-8")
        return Reply(404, "not found", "text/plain")


def test_tabs_are_reused_yet_each_page_keeps_its_content_and_errors_and_contexts_recycle() -> None:
    with ThrowingSite() as site:
        options = {
            "sitemap_urls": [f"{site.base_url}/sitemap.xml"],
            "render": {"mode": "always", "max_concurrent": 2, "max_pages_per_context": 4},
        }
        # twice as many downloads as tabs: requests wait for a tab (the hang this handler once had)
        result = run_connector("sitemap", options, settings={"CONCURRENT_REQUESTS": 4})
    stats = result.stats
    texts = {
        d.removeprefix(site.base_url): str(i.get("html") or i.get("text") or "") for d, i in result.documents().items()
    }
    assert sorted(texts) == sorted(f"/p/{n}" for n in range(PAGES))
    for path, text in texts.items():  # a reused tab shows the page it navigated to, not the one before
        assert f"written by script for page{path[3:]} " in text
        assert sum(f"written by script for page{n} " in text for n in range(PAGES)) == 1
    assert stats["pushcrawl/render/rendered"] == PAGES
    # one uncaught error per page: the handler that counts them is not attached again to a reused tab
    assert stats["pushcrawl/render/script_errors"] == PAGES
    # 3 context generations of 4 pages, at most 2 tabs each: tabs were opened per context, not per page
    assert stats["playwright/context_count"] == 3
    assert stats["playwright/page_count"] <= 6
    assert stats["pushcrawl/render/tabs_reused"] == PAGES - stats["playwright/page_count"]
    # an old context is closed once its tabs are parked or done: never more than the current one and the last
    assert stats["playwright/context_count/max_concurrent"] <= 2


def test_a_context_per_page_neither_hangs_nor_closes_a_context_a_waiting_request_uses() -> None:
    """Every request a new context generation, more requests than tabs: a request waits for a tab while newer
    generations start. Closing its (still tabless) context under it hung the crawl; not closing emptied ones
    filled PLAYWRIGHT_MAX_CONTEXTS and hung it too."""
    with ThrowingSite() as site:
        options = {
            "sitemap_urls": [f"{site.base_url}/sitemap.xml"],
            "render": {"mode": "always", "max_concurrent": 2, "max_pages_per_context": 1},
        }
        result = run_connector("sitemap", options, settings={"CONCURRENT_REQUESTS": 4})
    assert len(result.documents()) == PAGES and result.stats["pushcrawl/render/rendered"] == PAGES
    assert result.stats["pushcrawl/render/script_errors"] == PAGES
    assert "pushcrawl/render/browser_crashes" not in result.stats  # no tab opened in a closing context
    assert result.stats["playwright/context_count/max_concurrent"] <= 2
