"""Every request of a crawl carries the connector's one bound method as its callback and errback.

Scrapy checks each callback and errback for a generator that returns a value by reading and parsing its
source (``inspect.getsource`` + ``ast.parse``), remembered in a cache keyed by a weak reference to the
callable. A fresh bound method per request (``callback=self.parse_page``) dies with its request, and the
entry with it: through the CLI, 3,000 sitemap pages re-read ``parse_page``'s source 196 times (~1 % of the
crawl). ``Connector`` binds its ``parse*`` and ``*errback`` methods once per instance (connectors.base); this
test pins the mechanism for the sitemap and web connectors: one object per callback name for all requests.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from scrapy import Request

from tests.fixtures.crawl import run_connector
from tests.fixtures.sitemap_site import SitemapSite
from tests.fixtures.web_server import WebServer

pytestmark = pytest.mark.integration

#: callback name -> the callables seen (held here, so that no two can share an id)
SEEN: dict[str, list[Any]] = defaultdict(list)


class RecordCallbacks:
    """A downloader middleware that keeps each request's callback and errback."""

    def process_request(self, request: Request) -> None:
        for cb in (request.callback, request.errback):
            if cb is not None and hasattr(cb, "__func__"):
                SEEN[cb.__func__.__name__].append(cb)


SETTINGS = {"DOWNLOADER_MIDDLEWARES": {f"{__name__}.RecordCallbacks": 1}}


def _one_object_per_name() -> dict[str, int]:
    return {name: len({id(cb) for cb in cbs}) for name, cbs in SEEN.items()}


def test_sitemap_page_requests_share_one_callback() -> None:
    SEEN.clear()
    with SitemapSite(pages=20) as site:
        opts = {"sitemap_urls": [f"{site.base_url}/sitemap.xml"]}
        result = run_connector("sitemap", opts, settings=SETTINGS)
    assert len(result.documents()) == 20 and len(SEEN["parse_page"]) == 20
    assert _one_object_per_name() == {name: 1 for name in SEEN}
    assert "page_errback" in SEEN


def test_web_requests_share_one_callback() -> None:
    SEEN.clear()
    with WebServer() as srv:
        result = run_connector("web", {"start_urls": [srv.base_url + "/"], "max_depth": 2}, settings=SETTINGS)
    assert len(result.documents()) >= 5 and len(SEEN["parse_page"]) >= 5
    assert _one_object_per_name() == {name: 1 for name in SEEN}
