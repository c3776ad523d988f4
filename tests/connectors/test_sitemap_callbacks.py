"""Every page request of a sitemap crawl carries the same bound method as its callback.

Scrapy checks each callback for a generator that returns a value by reading and parsing its source
(``inspect.getsource`` + ``ast.parse``), remembered in a cache keyed by a weak reference to the callback. A
fresh bound method per request (``callback=self.parse_page``) dies with its request, and the entry with it:
through the CLI, 3,000 pages re-read ``parse_page``'s source 196 times (~1 % of the crawl); with one bound
method, once. This test pins the mechanism: one callback object for all page requests."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request

from tests.fixtures.crawl import run_connector
from tests.fixtures.sitemap_site import SitemapSite

pytestmark = pytest.mark.integration

CALLBACKS: list[Any] = []  # held here, so that no two can share an id


class RecordCallbacks:
    """A downloader middleware that keeps each page request's callback."""

    def process_request(self, request: Request) -> None:
        if request.url.endswith(".html"):
            CALLBACKS.append(request.callback)


def test_page_requests_share_one_callback() -> None:
    CALLBACKS.clear()
    middleware = {f"{__name__}.RecordCallbacks": 1}
    with SitemapSite(pages=20) as site:
        opts = {"sitemap_urls": [f"{site.base_url}/sitemap.xml"]}
        result = run_connector("sitemap", opts, settings={"DOWNLOADER_MIDDLEWARES": middleware})
    assert len(result.documents()) == 20 and len(CALLBACKS) == 20
    assert len({id(cb) for cb in CALLBACKS}) == 1
    assert CALLBACKS[0].__func__.__name__ == "parse_page"
