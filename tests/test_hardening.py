"""Fast checks of the hardening fixes (issue 17): names, dates, noindex, size caps and failure reasons.

The bad-input corpus (tests/badinput) proves the same through the real CLI; these pin each rule down in
milliseconds, so a regression names its finding.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from connectors.sitemap.parse import parse_sitemap
from connectors.sitemap.spider import SitemapConnector, SitemapOptions
from crawler.config import Settings
from crawler.fieldrules import normalise_name
from crawler.model import Document
from pipelines.extract import extract_html
from pipelines.fields import FieldMapper

PAGE = "https://www.example.org/p.html"


def _spider(**options: object) -> SitemapConnector:
    crawler = get_crawler(SitemapConnector)
    opts = SitemapOptions(sitemap_urls=["https://www.example.org/sitemap.xml"], **options)  # type: ignore[arg-type]
    return SitemapConnector.from_crawler(crawler, options=opts, site="t")


def _html(head: str = "", headers: dict[str, str] | None = None) -> HtmlResponse:
    body = f"<html><head><title>T</title>{head}</head><body><p>words</p></body></html>".encode()
    return HtmlResponse(PAGE, body=body, encoding="utf-8", headers=headers)


# ---- finding 6: names are transliterated, and renames reported without any declared field ----
@pytest.mark.parametrize(
    ("raw", "name"),
    [("déjà-vu", "deja_vu"), ("Straße", "strasse"), ("Foo Bar!", "foo_bar"), ("123abc", "f_123abc"), ("!!!", "")],
)
def test_names_are_transliterated_not_stripped(raw: str, name: str) -> None:
    assert normalise_name(raw) == name


def test_page_meta_renames_are_reported_with_no_declared_fields() -> None:
    doc = Document(
        document_id=PAGE,
        html=_html(
            '<meta name="Foo Bar!" content="x"><meta name="!!!" content="y"><meta name="og:type" content="article">'
        ).text,
    )
    extract_html(doc)
    mapped = FieldMapper(Settings.model_validate({"sites": {"t": {"connector": "sitemap"}}}), "t").map(doc)
    assert mapped.renamed == {"foo bar!": "foo_bar"}  # og:type → og_type is convention, not reported
    assert mapped.rejected == ["!!!"]
    assert "" not in mapped.fields and mapped.fields["foo_bar"] == "x"


# ---- finding 9: dates in the forms people write, unreadable ones noted and counted ----
@pytest.mark.parametrize(
    "value", ["14 March 2025", "Fri, 14 Mar 2025 09:30:00 +0000", "2025-03-14T09:30:00Z", "March 14, 2025"]
)
def test_page_dates_in_common_forms_are_read(value: str) -> None:
    doc = Document(document_id=PAGE, html=_html(f'<meta name="date" content="{value}">').text)
    extract_html(doc)
    assert doc.date is not None and (doc.date.year, doc.date.month, doc.date.day) == (2025, 3, 14)
    assert not [n for n in doc.notes if n.startswith("invalid date")]


def test_invalid_page_date_is_noted() -> None:
    doc = Document(document_id=PAGE, html=_html('<meta name="date" content="31 Febtember">').text)
    extract_html(doc)
    assert doc.date is None
    assert any(n.startswith("invalid date") and "Febtember" in n for n in doc.notes)


def test_sitemap_lastmod_forms_and_invalid_ones_counted() -> None:
    body = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>https://www.example.org/a</loc><lastmod>Fri, 14 Mar 2025 09:30:00 GMT</lastmod></url>
    <url><loc>https://www.example.org/b</loc><lastmod>soon</lastmod></url></urlset>"""
    parsed = parse_sitemap(body, "https://www.example.org/s.xml")
    assert parsed.entries[0].lastmod == datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    assert parsed.entries[1].lastmod is None and len(parsed.invalid_lastmods) == 1
    spider = _spider()
    from scrapy.http import XmlResponse

    list(spider.parse_sitemap(XmlResponse("https://www.example.org/s.xml", body=body)))
    assert spider.crawler.stats.get_value("pushcrawl/dates/invalid") == 1


# ---- finding 13: noindex in the meta tag or the header, with a per-site override ----
@pytest.mark.parametrize(
    ("head", "headers"),
    [('<meta name="robots" content="noindex">', None), ("", {"X-Robots-Tag": "noindex, nofollow"})],
)
def test_sitemap_drops_noindex_pages_unless_told_otherwise(head: str, headers: dict[str, str] | None) -> None:
    spider = _spider()
    assert list(spider.parse_page(_html(head, headers))) == []
    assert spider.crawler.stats.get_value("pushcrawl/dropped/noindex") == 1
    assert len(list(_spider(obey_noindex=False).parse_page(_html(head, headers)))) == 1


def test_noindex_for_another_agent_is_not_ours() -> None:
    spider = _spider()
    assert len(list(spider.parse_page(_html("", {"X-Robots-Tag": "otherbot: noindex"})))) == 1


# ---- findings 5 and 7: a size-cap cancellation is too_large; every failure has a reason ----
def _failure(exc: Exception) -> Failure:
    failure = Failure(exc)
    failure.request = Request(PAGE)  # type: ignore[attr-defined]
    return failure


def test_size_cap_is_a_counted_drop_not_an_error() -> None:
    spider = _spider()
    spider.page_errback(_failure(DownloadCancelledError("expected size 314572800 larger than 268435456")))
    assert spider.crawler.stats.get_value("pushcrawl/dropped/too_large") == 1
    assert not spider.crawler.stats.get_value("pushcrawl/errors")


def test_truncated_transfer_reason_is_not_empty(caplog: pytest.LogCaptureFixture) -> None:
    spider = _spider()
    spider.page_errback(_failure(ResponseDataLossError()))
    assert spider.crawler.stats.get_value("pushcrawl/errors") == 1
    (line,) = [r.getMessage() for r in caplog.records if "page failed" in r.getMessage()]
    assert line.endswith(
        "truncated transfer: the connection closed before the body the server announced (Content-Length) arrived"
    )


def test_download_cap_is_the_container_limit() -> None:
    from crawler.runner import scrapy_settings

    settings = Settings.model_validate(
        {"sites": {"t": {"connector": "sitemap"}}, "push": {"container_max_bytes": 1000}}
    )
    assert scrapy_settings(settings, "t", "INFO")["DOWNLOAD_MAXSIZE"] == 1000
