"""Web connector, memory: a page's response and parsed tree are freed by reference counting once the page is
processed, not left for Python's cyclic collector (pipelines.htmlparse.release_selector says why)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from connectors.web.spider import WebConnector, WebOptions
from crawler.model import Document
from pipelines.extract import extract_html
from pipelines.htmlparse import release_selector

PAGE = b"""<html lang="en"><head><title>Guide</title><meta name="description" content="d"></head>
<body><nav><a href="/other.html">Other</a></nav><div role="main"><h1>Guide</h1><p>Some text to index.</p>
<a href="/next.html">Next</a></div></body></html>"""


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    """Only reference counting frees objects: what a cycle keeps alive stays alive for the test's length."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _spider() -> WebConnector:
    spider = WebConnector(options=WebOptions.model_validate({"start_urls": ["http://site.example/"]}), site="t")
    spider._set_crawler(get_crawler(WebConnector))
    return spider


def test_a_processed_page_is_freed_without_the_cyclic_collector(no_cyclic_gc: None) -> None:
    spider = _spider()
    response = HtmlResponse("http://site.example/guide.html", body=PAGE, request=Request("http://site.example/"))
    gone = weakref.ref(response)
    out = list(spider.parse_page(response))
    docs = [o for o in out if isinstance(o, Document)]
    assert len(docs) == 1 and len(out) == 3  # the page and its two links
    extract_html(docs[0])  # the extract pipeline takes the shared tree: one parse per page still
    assert docs[0].text == "Guide\nSome text to index.\nNext"
    del response, out
    assert gone() is None  # with Scrapy's response <-> selector cycle left in place, the response is still here


def test_a_released_response_still_answers_selectors() -> None:
    response = HtmlResponse("http://site.example/guide.html", body=PAGE)
    assert response.css("title::text").get() == "Guide"
    release_selector(response)
    release_selector(response)  # twice, or on a response never parsed: nothing to do
    assert response.xpath("//h1/text()").get() == "Guide"  # parsed again on demand


def test_a_page_linked_through_many_anchors_is_requested_once() -> None:
    links = "".join(f'<a href="/lib/os.html#f{i}">os.f{i}</a>' for i in range(200))
    body = f'<html lang="en"><title>Contents</title><body><div role="main"><a href="/lib/os.html">os</a>{links}'
    body += '<a href="/lib/re.html#top">re</a><a href="/lib/re.html">re again</a></div></body></html>'
    spider = _spider()
    page = HtmlResponse(
        "http://site.example/contents.html", body=body.encode(), request=Request("http://site.example/")
    )
    requests = [o for o in spider.parse_page(page) if isinstance(o, Request)]
    # the first link of each page wins, fragment and text as written (its text titles a linked document)
    assert [(r.url, r.meta["link_text"]) for r in requests] == [
        ("http://site.example/lib/os.html", "os"),
        ("http://site.example/lib/re.html#top", "re"),
    ]
    assert spider.crawler.stats.get_value("pushcrawl/web/same_page_links") == 201
