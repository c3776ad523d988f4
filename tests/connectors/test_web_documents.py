"""Web connector, linked documents: the ``documents``/``max_document_bytes`` options, response classification,
fixture crawls (rules, size cap, HTML under a .pdf URL, 404/410 deletions) and a CLI run into the local Push API.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from connectors.sitemap.mapping import BINARY_EXTENSIONS
from connectors.web import documents
from connectors.web.spider import WebConnector, WebOptions
from crawler.model import Document
from tests.connectors.e2e import Site
from tests.fixtures.crawl import run_connector
from tests.fixtures.web_server import SAMPLES, WebServer

HANDBOOK = (SAMPLES / "files" / "club-handbook.pdf").read_bytes()
PDF = {"Content-Type": "application/pdf"}
ALL = frozenset(BINARY_EXTENSIONS)


def _options(**options: object) -> WebOptions:
    return WebOptions.model_validate({"start_urls": ["http://club.example/"], **options})


def _spider(**options: object) -> WebConnector:
    # built directly: from_crawler writes per-site settings, which get_crawler has already frozen
    opts = _options(**options)
    spider = WebConnector(options=opts, site="t")
    spider._set_crawler(get_crawler(WebConnector))
    return spider


def _response(url: str, body: bytes, headers: dict[str, str], link_text: str | None = None) -> Response:
    request = Request(url, meta={"link_text": link_text} if link_text else {})
    cls = HtmlResponse if "html" in headers.get("Content-Type", "") else Response
    return cls(url, body=body, headers=headers, request=request)


def test_options_default_to_the_office_formats_normalise_and_reject_junk() -> None:
    opts = _options()
    assert {f".{e}" for e in opts.documents} == BINARY_EXTENSIONS and opts.max_document_bytes == 50 * 1024 * 1024
    assert _options(documents=[".PDF", "docx"]).documents == ["pdf", "docx"]
    with pytest.raises(ValueError, match="file extensions"):
        _options(documents=["p df"])
    with pytest.raises(ValueError, match="max_document_bytes"):
        _options(max_document_bytes=0)


def test_content_type_wins_over_the_url_and_html_is_never_a_document() -> None:
    def ext(url: str, ctype: str, wanted: frozenset[str] = ALL) -> str | None:
        return documents.document_extension(_response(url, b"x", {"Content-Type": ctype}), wanted)

    assert ext("http://c.example/get?id=7", "application/pdf") == ".pdf"  # no extension: the type decides
    assert ext("http://c.example/Report.DOC", "application/pdf") == ".pdf"  # PDF bytes behind a .doc name
    assert ext("http://c.example/kit.xlsx", "application/octet-stream") == ".xlsx"  # generic type: the URL decides
    assert ext("http://c.example/minutes.pdf", "text/html; charset=utf-8") is None
    assert ext("http://c.example/a.pdf", "application/pdf", frozenset({".docx"})) is None  # not configured
    assert ext("http://c.example/route.gpx", "application/gpx+xml") is None


def test_document_callback_builds_a_binary_document_titled_by_its_link() -> None:
    spider = _spider()
    linked = _response("http://club.example/files/club-handbook.pdf#p2", HANDBOOK, PDF, "  Rider\n handbook ")
    (doc,) = list(spider.parse_page(linked))
    assert isinstance(doc, Document) and doc.binary == HANDBOOK and doc.file_extension == ".pdf"
    assert doc.document_id == doc.clickable_uri == "http://club.example/files/club-handbook.pdf"
    assert doc.title == "Rider handbook" and doc.html is None
    # reached without a link (a recheck): the file name
    (again,) = list(_spider().parse_page(_response("http://club.example/files/Route%20card.pdf", HANDBOOK, PDF)))
    assert again.title == "Route card.pdf"


def test_oversized_and_html_under_a_document_url_are_dropped_with_a_reason() -> None:
    spider = _spider(max_document_bytes=100)
    assert list(spider.parse_page(_response("http://club.example/get?id=7", HANDBOOK, PDF))) == []
    login = b"<html><head><title>Sign in</title></head><body><a href='/secret.html'>x</a></body></html>"
    html = _response("http://club.example/minutes.pdf", login, {"Content-Type": "text/html"})
    assert list(spider.parse_page(html)) == []  # neither indexed as a page nor followed
    assert spider.crawler.stats.get_value("pushcrawl/dropped/too_large") == 1
    assert spider.crawler.stats.get_value("pushcrawl/dropped/not_document") == 1


def test_an_empty_list_turns_documents_off() -> None:
    spider = _spider(documents=[])
    assert list(spider.parse_page(_response("http://club.example/a.pdf", HANDBOOK, PDF))) == []
    assert spider.crawler.stats.get_value("pushcrawl/dropped/not_html") == 1


@pytest.mark.integration
def test_crawl_indexes_linked_documents_under_the_page_rules() -> None:
    with WebServer(library=True) as srv:
        opts = {"start_urls": [srv.base_url + "/"], "max_depth": 2, "deny": ["budget"], "max_document_bytes": 100_000}
        result = run_connector("web", opts)
        shallow = run_connector("web", {**opts, "max_depth": 1})
        asked = [r.target for r in srv.requests]
    docs = {i.removeprefix(srv.base_url): d for i, d in result.documents().items() if d["file_extension"] == ".pdf"}
    assert set(docs) == {"/files/club-handbook.pdf", "/download/route-card"}  # no extension, but application/pdf
    assert docs["/download/route-card"]["title"] == "Printable route card"
    assert docs["/files/club-handbook.pdf"]["binary_size"] == len(HANDBOOK)
    assert "/private/accounts.pdf" not in asked and "/files/drafts/budget.pdf" not in asked  # robots.txt, deny
    assert result.stats["pushcrawl/dropped/too_large"] == 1 and result.stats["pushcrawl/dropped/not_document"] == 1
    assert f"{srv.base_url}/files/minutes-2020.pdf" not in result.documents()  # a login page, not the minutes
    assert result.stats.get("pushcrawl/errors", 0) == 0
    assert not [d for d in shallow.documents().values() if d["file_extension"] == ".pdf"]  # 3 hops > max_depth 1


@pytest.mark.integration
def test_without_documents_no_file_is_even_requested() -> None:
    with WebServer(library=True) as srv:
        result = run_connector("web", {"start_urls": [srv.base_url + "/"], "max_depth": 2, "documents": []})
        asked = [r.target for r in srv.requests]
    assert f"{srv.base_url}/library.html" in result.documents()
    assert not [path for path in asked if path.endswith(".pdf")]


@pytest.mark.integration
def test_incremental_deletes_documents_answering_404_or_410() -> None:
    with WebServer(library=True) as srv:
        opts = {"start_urls": [srv.base_url + "/"], "max_depth": 2}
        first = run_connector("web", opts)
        srv.remove("files/club-handbook.pdf", 404)  # still linked: its own request answers 404
        srv.remove("files/route-card.pdf", 410)  # unlinked too: found by the recheck of known ids
        srv.change("library.html", '<li><a href="/download/route-card">Printable route card</a></li>', "")
        second = run_connector("web", opts, mode="incremental", known_ids=list(first.documents()))
    handbook, card = f"{srv.base_url}/files/club-handbook.pdf", f"{srv.base_url}/download/route-card"
    assert {handbook, card} <= set(first.documents())
    assert second.deletions() == [card, handbook]
    assert second.stats.get("pushcrawl/errors", 0) == 0


@pytest.mark.integration
def test_pdf_is_pushed_searchable_and_deleted_through_the_cli(tmp_path: Path) -> None:
    with WebServer(library=True) as srv:
        # the budget and the annual report are copies of the handbook: leave them out
        opts = {"start_urls": [srv.base_url + "/"], "max_depth": 2, "deny": ["budget", "annual"]}
        # a public site: web has no permissions
        site = Site.create(tmp_path, "club", "web", opts, security="everyone")
        first = site.crawl()
        assert first["status"] == "finished" and first["counts"]["errors"] == 0
        (hit,) = site.search("quillstem")  # a word inside the PDF only: the index extracted its text
        assert hit["uri"] == hit["clickUri"] == f"{srv.base_url}/files/club-handbook.pdf"
        assert hit["title"] == "Rider handbook (PDF)" and hit["raw"]["filetype"] == "pdf"
        assert hit["raw"]["size"] == len(HANDBOOK)  # the file's own bytes, converted by the index
        srv.remove("files/club-handbook.pdf")
        srv.change("library.html", '<li><a href="/files/club-handbook.pdf">Rider handbook (PDF)</a></li>', "")
        second = site.crawl()
    assert second["mode"] == "incremental" and second["status"] == "finished"
    assert second["deleted_ids"] == [f"{srv.base_url}/files/club-handbook.pdf"]
    assert site.search("quillstem") == []
