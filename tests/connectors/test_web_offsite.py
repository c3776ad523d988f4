"""Web connector: it crawls its start hosts only, also when a redirect to another host gets past Scrapy's checks."""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from connectors.web.spider import WebConnector, WebOptions
from crawler.model import Document

PAGE = b"""<html lang="en"><head><title>Landing</title></head><body><main><p>A landing page with some text.</p>
</main></body></html>"""


def _spider() -> WebConnector:
    spider = WebConnector(options=WebOptions.model_validate({"start_urls": ["http://site.example/"]}), site="t")
    spider._set_crawler(get_crawler(WebConnector))
    return spider


def test_a_page_redirected_to_another_host_is_dropped_not_indexed() -> None:
    """Scrapy's offsite check passes dont_filter requests (pages retried after a re-login), and a rendered
    page follows redirects inside the browser: either way a page that ends on another host is not indexed."""
    spider = _spider()
    response = HtmlResponse("http://elsewhere.example/landing", body=PAGE, request=Request("http://site.example/away"))
    assert list(spider.parse_page(response)) == []
    assert spider.crawler.stats is not None
    assert spider.crawler.stats.get_value("pushcrawl/dropped/offsite_redirect") == 1
    same_host = HtmlResponse("http://site.example/landing", body=PAGE, request=Request("http://site.example/away"))
    assert any(isinstance(o, Document) for o in spider.parse_page(same_host))
