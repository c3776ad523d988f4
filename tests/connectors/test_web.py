# ruff: noqa: RUF001  (typographic quotes and dashes from legacy encodings are what these tests check)
"""Web connector: page mapping from saved samples (encodings, damage, robots meta, fields) and fixture crawls."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request, Response

from connectors.web import mapping
from connectors.web.spider import WebOptions
from tests.fixtures.crawl import run_connector
from tests.fixtures.web_server import SAMPLES, WebServer

HOST = "club.example"


def _response(name: str, content_type: str = "text/html", url: str | None = None) -> Response:
    url = url or f"http://{HOST}/{name}"
    return HtmlResponse(
        url, body=(SAMPLES / name).read_bytes(), headers={"Content-Type": content_type}, request=Request(url)
    )


def _doc(name: str, content_type: str = "text/html") -> mapping.Document:
    result = mapping.page_document(_response(name, content_type), f"http://{HOST}/{name}")
    assert isinstance(result, mapping.Document), result
    return result


def test_windows_1252_declared_in_meta_is_readable() -> None:
    doc = _doc("news/legacy-1252.html")
    assert doc.title == "Reunion 1998 – “Les Cyclistes”"
    assert "Crème brûlée for everyone — and a toast to Zoë’s" in (doc.html or "")


def test_iso_8859_1_declared_in_header_is_readable() -> None:
    doc = _doc("news/latin1-header.html", "text/html; charset=ISO-8859-1")
    assert "Fondé à Northgate; première sortie à Noël" in (doc.html or "")


def test_malformed_and_truncated_pages_keep_their_text() -> None:
    assert "Hill climb" in (_doc("news/malformed.html").html or "")
    truncated = _doc("news/truncated.html")
    assert truncated.title == "Committee minutes" and "winter league" in (truncated.html or "")


def test_unreadable_noindex_and_bodyless_pages_are_refused_with_a_reason() -> None:
    garbled = mapping.page_document(_response("news/garbled.html", "text/html; charset=utf-8"), "x")
    assert isinstance(garbled, mapping.Refused) and garbled.reason == "undecodable"
    noindex = mapping.page_document(_response("drafts/noindex.html"), "x")
    assert isinstance(noindex, mapping.Refused) and noindex.reason == "noindex"
    cut = HtmlResponse("http://club.example/cut", body=b"<html><head><title>Cut", headers={"Content-Type": "text/html"})
    empty = mapping.page_document(cut, "x")
    assert isinstance(empty, mapping.Refused) and empty.reason == "empty"


def test_canonical_stays_on_crawled_hosts_and_fields_extract() -> None:
    about = _response("about.html", url=f"http://{HOST}/about?ref=nav")
    assert mapping.canonical_url(about, {HOST}) == f"http://{HOST}/about"
    assert mapping.canonical_url(about, {"other.example"}) == f"http://{HOST}/about?ref=nav"
    rules = WebOptions(
        start_urls=["http://x.example/"],
        fields={
            "distance": {"css": ".distance::text"},
            "tags": {"css": "ul.tags li", "multiple": True},
            "level": {"xpath": "//span[@class='level']/text()"},
        },
    ).fields
    doc = mapping.page_document(_response("rides/sunday-social.html"), "id", rules)
    assert isinstance(doc, mapping.Document)
    assert doc.metadata["tags"] == ["social", "coffee stop"]
    assert (doc.metadata["distance"], doc.metadata["level"], doc.author) == ("45 km", "easy", "Priya Natarajan")


def test_options_reject_bad_rules() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        WebOptions(start_urls=["http://x.example/"], fields={"f": {"css": "a", "xpath": "//a"}})
    with pytest.raises(ValueError, match="regular expression"):
        WebOptions(start_urls=["http://x.example/"], deny=["("])


@pytest.mark.integration
def test_crawl_obeys_robots_depth_hosts_and_counts_drops() -> None:
    with WebServer() as srv:
        result = run_connector("web", {"start_urls": [srv.base_url + "/"], "max_depth": 1})
    ids = set(result.documents())
    assert f"{srv.base_url}/about" in ids and f"{srv.base_url}/about?ref=nav" not in ids  # canonical, once
    assert f"{srv.base_url}/news/legacy-1252.html" in ids
    assert f"{srv.base_url}/private/members.html" not in ids  # robots.txt
    assert f"{srv.base_url}/rides/archive/2019.html" not in ids  # depth 2 > max_depth 1
    assert not any("elsewhere.example" in i for i in ids)
    for reason in ("undecodable", "noindex", "not_html"):
        assert result.stats[f"pushcrawl/dropped/{reason}"] == 1
    assert result.stats.get("pushcrawl/errors", 0) == 0


@pytest.mark.integration
def test_incremental_uses_known_ids_and_deletes_only_404_410() -> None:
    with WebServer() as srv:
        opts = {"start_urls": [srv.base_url + "/"], "max_depth": 1}
        first = run_connector("web", opts)
        srv.remove("news/malformed.html", 410)
        srv.change("index.html", '<li><a href="/news/malformed.html">Spring fixtures</a></li>', "")
        srv.change("index.html", '<li><a href="/rides/sunday-social.html">Sunday social ride</a></li>', "")
        known = [*first.documents(), f"{srv.base_url}/gone-long-ago.html"]
        second = run_connector("web", opts, mode="incremental", known_ids=known)
    # unlinked but alive (sunday-social is still linked from /rides/): kept; 410 and 404: deleted
    assert second.deletions() == [f"{srv.base_url}/gone-long-ago.html", f"{srv.base_url}/news/malformed.html"]
    assert f"{srv.base_url}/rides/sunday-social.html" in second.documents()
