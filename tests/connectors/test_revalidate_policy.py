"""What revalidation refuses to trust (crawler.revalidate.policy, .middleware), against a server that bends
the rules: weak ETags, a page modified in the second it was served, a 304 naming another ETag than the one
sent, a 304 to a request that asked for nothing. In-process crawls of the web connector, two runs sharing
one cache file, as two scheduled runs of a site do. And the sitemap connector's pages without ``<lastmod>``,
against nginx."""

from __future__ import annotations

import json
import sqlite3
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors import registry
from crawler import revalidate
from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.crawl import CrawlResult, run_connector
from tests.fixtures.nginx_site import NginxSite

OLD = formatdate(time.time() - 86400, usegmt=True)


def html(text: str, links: tuple[str, ...] = ()) -> str:
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in links)
    return f"<html><head><title>{text}</title></head><body><main><p>{text}</p>{anchors}</main></body></html>"


#: this server's 304s also name a Content-Type, which a 304 should not: it must not replace the stored page's
NOT_MODIFIED = "application/json"


class Quirky(FixtureServer):
    def __init__(self) -> None:
        super().__init__()
        self.liar_version = 1

    def handle(self, request: Request) -> Reply:
        sent = request.headers.get("if-none-match")
        if request.path == "/":
            if sent == '"idx"':
                return Reply(304, b"", NOT_MODIFIED, headers={"ETag": '"idx"'})
            links = ("weak.html", "fresh.html", "liar.html", "always304.html", "moved.html", "gone.html")
            return Reply(200, html("Index page", links), "text/html", {"ETag": '"idx"', "Last-Modified": OLD})
        if request.path == "/weak.html":  # a weak tag: "equivalent", not the same bytes
            if sent == 'W/"w1"':
                return Reply(304, b"", NOT_MODIFIED, headers={"ETag": 'W/"w1"'})
            return Reply(200, html("Weak tag page"), "text/html", {"ETag": 'W/"w1"'})
        if request.path == "/fresh.html":  # modified in the second it is served
            now = formatdate(time.time(), usegmt=True)
            if sent == '"f1"':
                return Reply(304, b"", NOT_MODIFIED, headers={"ETag": '"f1"'})
            return Reply(200, html("Fresh page"), "text/html", {"ETag": '"f1"', "Last-Modified": now})
        if request.path == "/liar.html":
            tag = f'"v{self.liar_version}"'
            if sent is not None:  # answers 304 to any tag, but names the current one
                return Reply(304, b"", NOT_MODIFIED, headers={"ETag": tag})
            return Reply(200, html(f"Liar version {self.liar_version}"), "text/html", {"ETag": tag})
        if request.path == "/moved.html":  # a page with a stored copy, moved since
            if self.liar_version == 2:
                return Reply(301, b"", "text/plain", {"Location": f"{self.base_url}/target.html"})
            return Reply(200, html("Moved page"), "text/html", {"ETag": '"m1"', "Last-Modified": OLD})
        if request.path == "/target.html":  # its tag happens to equal the moved page's (nginx: same mtime, size)
            if sent == '"m1"':
                return Reply(304, b"", NOT_MODIFIED, headers={"ETag": '"m1"'})
            return Reply(200, html("Target page"), "text/html", {"ETag": '"m1"', "Last-Modified": OLD})
        if request.path == "/gone.html" and self.liar_version == 1:
            return Reply(200, html("Soon gone"), "text/html", {"ETag": '"g1"', "Last-Modified": OLD})
        if request.path == "/always304.html":
            return Reply(304, b"", NOT_MODIFIED)
        return Reply(404, "not found", "text/plain")

    def conditional(self, path: str) -> list[dict[str, str]]:
        return [{k: v for k, v in r.headers.items() if k.startswith("if-")} for r in self.requests if r.path == path]


def stored(cache: Path) -> set[str]:
    """Paths of the pages the cache file holds."""
    db = sqlite3.connect(str(revalidate.cache_file(cache, "t/quirky")))
    try:
        return {urlsplit(url).path for (url,) in db.execute("SELECT url FROM responses")}
    finally:
        db.close()


def crawl(srv: Quirky, cache: Path, mode: str = "incremental") -> CrawlResult:
    settings: dict[str, Any] = revalidate.scrapy_settings(cache, "t/quirky", mode, False, {})
    return run_connector(
        "web", {"start_urls": [f"{srv.base_url}/"], "autothrottle": False}, mode=mode, settings=settings, ping=False
    )


def test_only_trustworthy_validators_are_sent_and_only_a_matching_304_is_believed(tmp_path: Path) -> None:
    with Quirky() as srv:
        first = crawl(srv, tmp_path)
        assert first.stats.get("pushcrawl/http/unexpected_304") == 1, first.stats  # always304, asked nothing
        assert stored(tmp_path) == {"/", "/liar.html", "/moved.html", "/gone.html"}  # the trustworthy ones
        srv.liar_version = 2
        srv.requests.clear()
        second = crawl(srv, tmp_path)
        stats = second.stats
        assert srv.conditional("/") == [{"if-none-match": '"idx"', "if-modified-since": OLD}]
        assert stats["pushcrawl/http/not_modified"] == 1, stats  # the index only
        assert srv.conditional("/weak.html") == [{}]  # a weak tag is no validator
        assert srv.conditional("/fresh.html") == [{}]  # nor a strong one, modified in the second served
        # the liar answered 304 naming "v2" to "v1": the page was asked for again, in full
        assert srv.conditional("/liar.html") == [{"if-none-match": '"v1"'}, {}], srv.conditional("/liar.html")
        assert stats["pushcrawl/http/refetched"] == 1, stats
        liar = second.documents()[f"{srv.base_url}/liar.html"]
        assert "Liar version 2" in json.dumps(liar)
        # a 304 to a request without validators: a failed page (counted), not a document, nothing stored
        assert stats["pushcrawl/http/unexpected_304"] == 1 and stats["pushcrawl/errors"] == 1, stats
        assert f"{srv.base_url}/always304.html" not in second.documents()
        # the redirect did not carry the moved page's validators to its target
        assert srv.conditional("/target.html") == [{}] and f"{srv.base_url}/target.html" in second.documents()
        # index (from its stored body), weak, fresh, liar, target
        assert len(second.documents()) == 5, sorted(second.documents())
        assert "/gone.html" not in stored(tmp_path)  # it answered 404: its stored page went too


def test_a_full_run_stores_afresh_what_it_fetched(tmp_path: Path) -> None:
    with Quirky() as srv:
        crawl(srv, tmp_path)
        srv.liar_version = 2  # moved.html now redirects, gone.html is gone
        crawl(srv, tmp_path, mode="full")
        # moved.html's page, stored by the first run, is not kept: the store holds what the site has now
        assert stored(tmp_path) == {"/", "/liar.html", "/target.html"}


def test_a_full_run_asks_for_every_page_in_full(tmp_path: Path) -> None:
    with Quirky() as srv:
        crawl(srv, tmp_path)
        srv.requests.clear()
        full = crawl(srv, tmp_path, mode="full")
        assert srv.conditional("/") == [{}] and "pushcrawl/http/not_modified" not in full.stats
        assert len(full.documents()) == 6


def test_sitemap_pages_without_lastmod_are_revalidated(tmp_path: Path) -> None:
    with NginxSite(tmp_path) as srv:
        names = ("a.html", "b.html", "c.html")
        urls = "".join(f"<url><loc>{srv.base_url}/{name}</loc></url>" for name in names)
        srv.write("sitemap.xml", f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
        for name in names:
            srv.write(name, html(f"Page {name}"))
        options = {"sitemap_urls": [f"{srv.base_url}/sitemap.xml"]}
        cls = registry.load("sitemap")
        assert revalidate.enabled(cls, cls.Options.model_validate(options))  # what the runner decides by
        settings = revalidate.scrapy_settings(tmp_path, "t/sitemap", "incremental", False, {})
        first = run_connector("sitemap", options, mode="incremental", settings=settings, ping=False)
        assert len(first.documents()) == 3 and "pushcrawl/http/not_modified" not in first.stats
        srv.write("c.html", html("Page c, edited"), age_s=60)
        known = [f"{srv.base_url}/{name}" for name in names]
        second = run_connector("sitemap", options, "incremental", None, known, settings, ping=False)
        assert second.stats["pushcrawl/http/not_modified"] == 3, second.stats  # the sitemap, a and b
        docs = second.documents()
        assert sorted(docs) == known and "edited" in json.dumps(docs[f"{srv.base_url}/c.html"])
