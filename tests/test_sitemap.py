"""Sitemap parsing from saved samples, and the sitemap connector's callbacks on real Scrapy responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from scrapy.http import HtmlResponse, Request, Response, XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from connectors.sitemap.parse import parse_sitemap
from connectors.sitemap.spider import SitemapConnector, SitemapOptions
from crawler.model import Document
from tests.conftest import DEMO, SAMPLES

S = SAMPLES / "sitemap"


def _parse(name: str, base: str = "https://www.example.org/sitemap.xml"):
    return parse_sitemap((S / name).read_bytes(), base)


def test_urlset_entries_and_lastmod_forms() -> None:
    parsed = _parse("urlset.xml")
    assert parsed.kind == "urlset" and parsed.damaged is None
    assert len(parsed.entries) == 5
    assert all(e.loc.startswith("https://www.example.org/") for e in parsed.entries)
    stamps = [e.lastmod for e in parsed.entries]
    assert None in stamps  # one URL has no lastmod
    assert stamps[0] == datetime(2024, 5, 1, tzinfo=UTC)  # date-only lastmod, read as UTC midnight
    assert stamps[1] == datetime(2024, 5, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    assert all(s is None or s.tzinfo is not None for s in stamps)


def test_sitemap_index_and_gzip() -> None:
    index = _parse("index.xml")
    assert index.kind == "sitemapindex"
    assert [e.loc for e in index.entries] == [
        "https://www.example.org/sitemap-a.xml",
        "https://www.example.org/sitemap-b.xml.gz",
    ]
    gz = _parse("urlset.xml.gz")
    assert (S / "urlset.xml.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert gz.kind == "urlset" and len(gz.entries) == 3


def test_relative_locs_resolve_against_the_sitemap_url() -> None:
    parsed = _parse("relative.xml", "file:///srv/site/sitemap.xml")
    assert [e.loc for e in parsed.entries] == ["file:///srv/site/a.html", "file:///srv/site/sub/b.html"]


def test_extension_namespaces_do_not_add_entries() -> None:
    parsed = _parse("namespaced-extra.xml")
    assert parsed.kind == "urlset" and len(parsed.entries) == 3 and parsed.damaged is None


def test_damaged_sitemap_is_reported() -> None:
    parsed = _parse("malformed.xml")
    assert parsed.damaged is not None
    not_xml = parse_sitemap(b"<html><body>Not found</body></html>", "https://x.org/s.xml")
    assert not_xml.damaged is not None and not not_xml.entries


def _spider() -> SitemapConnector:
    crawler = get_crawler(SitemapConnector)
    options = SitemapOptions(sitemap_urls=["https://www.example.org/sitemap.xml"], deny=[r"/private/"])
    spider = SitemapConnector.from_crawler(crawler, options=options, site="t")
    return spider


def test_spider_follows_index_and_filters_urls() -> None:
    spider = _spider()
    body = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>https://www.example.org/a</loc><lastmod>2025-01-02</lastmod></url>
    <url><loc>https://www.example.org/private/b</loc></url></urlset>"""
    out = list(spider.parse_sitemap(XmlResponse("https://www.example.org/s.xml", body=body)))
    assert [r.url for r in out] == ["https://www.example.org/a"]
    assert out[0].cb_kwargs["lastmod"] == datetime(2025, 1, 2, tzinfo=UTC)
    assert spider.listing_complete
    list(spider.parse_sitemap(XmlResponse("https://www.example.org/bad.xml", body=b"<urlset><url><loc>x")))
    assert not spider.listing_complete


def test_page_callback_builds_documents_for_html_and_pdf() -> None:
    spider = _spider()
    page = DEMO / "articles" / "trail-shoe-care.html"
    html = HtmlResponse(page.as_uri(), body=page.read_bytes(), encoding="utf-8")
    (doc,) = list(spider.parse_page(html))
    assert isinstance(doc, Document) and doc.html and "zephyrine" in doc.html
    pdf = DEMO / "files" / "warranty-terms.pdf"
    (bin_doc,) = list(spider.parse_page(Response(pdf.as_uri(), body=pdf.read_bytes())))
    assert bin_doc.binary == pdf.read_bytes() and bin_doc.file_extension == ".pdf"


def test_gone_pages_are_not_errors_but_failures_are() -> None:
    spider = _spider()
    request = Request("https://www.example.org/a")
    gone = Failure(HttpError(Response(request.url, status=410, request=request), "Ignoring non-200"))
    gone.request = request  # type: ignore[attr-defined]
    spider.page_errback(gone)
    broken = Failure(HttpError(Response(request.url, status=500, request=request), "Ignoring non-200"))
    broken.request = request  # type: ignore[attr-defined]
    spider.page_errback(broken)
    stats = spider.crawler.stats
    assert stats.get_value("pushcrawl/gone") == 1
    assert stats.get_value("pushcrawl/errors") == 1


def test_bad_url_filter_regex_is_a_settings_error() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="valid regular expression"):
        SitemapOptions(sitemap_urls=["https://www.example.org/sitemap.xml"], allow=["(unclosed"])
