"""Pages that used to vanish or turn to garbage silently (issue 17, findings 2, 3 and 11), through the real
extract pipeline and the web connector's page mapping: a text node over 10 MB, binary data served as
``text/html``, an unclosed ``<title>``; and the tree the web connector parsed is the one extraction reads."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Request

from connectors.sitemap.mapping import page_document as sitemap_page
from connectors.web import mapping
from crawler.model import Document
from pipelines.extract import ExtractPipeline, extract_html
from pipelines.htmlparse import looks_binary
from tests.test_pipelines import _crawler

URL = "http://club.example/page.html"
UNCLOSED = "<html><head><title>Annual report</head><body><main><h1>Results</h1><p>Sales <b>rose</b> 4%.</p></main>"


def _response(body: bytes, content_type: str = "text/html") -> HtmlResponse:
    return HtmlResponse(URL, body=body, headers={"Content-Type": content_type}, request=Request(URL))


def _random_bytes(n: int) -> bytes:
    return random.Random(17).randbytes(n)  # seeded: the same "file" every run


def test_text_node_over_10_mb_is_indexed_with_its_text() -> None:
    words = "quarterly figures " * (11 * 1024 * 1024 // 18)  # one text node of 11 MB
    html = f"<html><head><title>Big</title></head><body><main><p>{words}</p></main></body></html>"
    doc = Document(document_id=URL, html=html)
    extract_html(doc)
    assert doc.title == "Big"
    assert len(doc.text or "") > 11 * 1024 * 1024 - 100 and (doc.text or "").startswith("quarterly figures")


def test_text_node_over_10_mb_through_the_web_connector() -> None:
    words = "harbour " * (11 * 1024 * 1024 // 8)
    html = f"<html><head><title>Big</title></head><body><main><p>{words}</p></main></body></html>"
    page = mapping.page_document(_response(html.encode()), URL)
    assert isinstance(page, Document)
    extract_html(page)
    assert (page.text or "").count("harbour") == 11 * 1024 * 1024 // 8


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8", "text/html; charset=iso-8859-1"])
def test_binary_served_as_html_is_refused_by_the_web_connector(content_type: str) -> None:
    refused = mapping.page_document(_response(_random_bytes(200_000), content_type), URL)
    assert isinstance(refused, mapping.Refused) and refused.reason == "binary_content"


def test_binary_served_as_html_is_dropped_and_counted_by_the_pipeline(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    doc = sitemap_page(_response(_random_bytes(200_000)))  # the sitemap connector hands HTML on unread
    assert doc is not None and doc.html is not None
    with pytest.raises(DropItem, match="binary_content"):
        ExtractPipeline(crawler).process_item(doc)
    assert crawler.stats.get_value("pushcrawl/dropped/binary_content") == 1


def test_text_with_a_few_control_characters_is_not_binary(tmp_path: Path) -> None:
    stray = "Agenda item. " * 50 + "\x00\x1b"  # a few stray bytes in a real page: strip, do not drop
    html = "<html><head><title>Minutes</title></head><body><main><p>" + stray * 5 + "</p></main>"
    assert not looks_binary(html)
    doc = ExtractPipeline(_crawler(tmp_path)).process_item(Document(document_id=URL, html=html))
    assert doc.title == "Minutes" and "Agenda item." in (doc.text or "")


def test_png_served_as_html_is_binary() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _random_bytes(5000)
    assert looks_binary(_response(png).text)


def test_unclosed_title_gives_clean_title_and_body() -> None:
    doc = Document(document_id=URL, html=UNCLOSED)
    extract_html(doc)
    assert doc.title == "Annual report"
    assert doc.text == "Results\nSales rose 4%."


def test_unclosed_title_through_the_web_connector() -> None:
    page = mapping.page_document(mapping.repaired(_response(UNCLOSED.encode("utf-8"))), URL)
    assert isinstance(page, Document), page
    assert page.title == "Annual report"
    extract_html(page)
    assert page.text == "Results\nSales rose 4%." and "<" not in (page.text or "")


def test_the_web_connectors_parse_is_the_one_extraction_reads() -> None:
    response = _response(b"<html><head><title>T</title></head><body><main><p>Shared tree</p></main></body></html>")
    page = mapping.page_document(response, URL)
    assert isinstance(page, Document)
    # mark the tree the connector parsed: the extracted text shows whether extraction read that tree
    response.selector.root.find(".//p").text = "marked"
    extract_html(page)
    assert page.text == "marked"
