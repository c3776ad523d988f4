"""WebConnector: a polite link-following crawler for sites without an API.

Starts at ``start_urls``, follows links up to ``max_depth`` on the start URLs' hosts only, filtered by
``allow``/``deny`` regexes; obeys robots.txt (``obey_robots``) and robots meta (noindex, nofollow); throttles
with AutoThrottle; indexes each page once under its canonical URL; extracts per-site ``fields`` with CSS or
XPath. A page that cannot be read is dropped and counted (``pushcrawl/dropped/<reason>``), the run goes on.

Linked documents (``documents``: PDF and Office formats by default) are fetched under the same hosts, allow/deny,
depth and robots rules, and sent as binary Documents the index converts (``connectors.web.documents``). One
larger than ``max_document_bytes`` is not downloaded (or is discarded) and counted as ``too_large``; a
document link that answers HTML (a login wall, a soft 404) is counted as ``not_document``, not indexed as
a page. Their links are never followed.

A crawl cannot prove it saw the whole site (``lists_all_ids`` is False): a full run relies on the sweep; an
incremental run rechecks the known ids it did not reach and deletes those answering 404/410.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from pydantic import Field, field_validator
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.linkextractors import IGNORED_EXTENSIONS, LinkExtractor
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from connectors import auth, render
from connectors.auth.options import AuthenticatedOptions
from connectors.auth.ping import get_page
from connectors.base import Connector, RevalidateOptions
from connectors.failures import describe
from connectors.http import polite_settings
from connectors.patterns import RegexList
from connectors.recheck import GONE, RecheckMixin, known_ids
from connectors.render import RenderableOptions
from connectors.web import documents, mapping
from crawler import defaults
from crawler.errors import ConnectorError
from crawler.model import Deletion, Document
from crawler.scrapytypes import Meta, Output
from pipelines import htmlparse


class WebOptions(RevalidateOptions, RenderableOptions, AuthenticatedOptions):
    start_urls: list[str] = Field(min_length=1)
    allow: RegexList = Field(default_factory=list, description="follow/index only URLs matching one of these")
    deny: RegexList = Field(default_factory=list, description="never follow/index URLs matching these")
    max_depth: int = Field(3, ge=0, description="link hops from a start URL")
    obey_robots: bool = True
    obey_noindex: bool = Field(
        True, description="drop pages marked noindex (robots meta or X-Robots-Tag); false indexes them anyway"
    )
    autothrottle: bool = True
    fields: dict[str, mapping.FieldRule] = Field(default_factory=dict)
    documents: list[str] = Field(
        default_factory=lambda: list(documents.DEFAULT_DOCUMENTS),
        description="extensions of linked files indexed as documents; [] indexes pages only",
    )
    max_document_bytes: int = Field(
        50 * 1024 * 1024,
        gt=0,
        le=defaults.CONTAINER_LIMIT_BYTES,
        description="larger linked documents are skipped (counted as too_large)",
    )

    @field_validator("documents")
    @classmethod
    def _extensions(cls, values: list[str]) -> list[str]:
        out = []
        for value in values:
            ext = value.strip().lower().removeprefix(".")
            if not re.fullmatch(r"[a-z0-9]{1,10}", ext):
                raise ValueError(f"file extensions such as 'pdf' or 'docx' (got {value!r})")
            out.append(ext)
        return out

    @field_validator("start_urls")
    @classmethod
    def _http(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ValueError(f"absolute http(s) URLs (got {url!r})")
        return urls


class WebConnector(RecheckMixin, Connector[WebOptions]):
    name = "web"
    Options = WebOptions
    # no change feed, so no cursor: every run walks the links (start_full); an incremental run still pushes only
    # changed pages (their fingerprints) and rechecks known pages it did not reach (404/410 → delete)
    revalidates = True  # pages are asked for with their validators: a 304 is not downloaded again
    supports_incremental = False
    custom_settings = polite_settings()

    @classmethod
    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        opts = spider.options
        # per-site politeness: settings are still writable here (frozen after the spider is created)
        crawler.settings.set("ROBOTSTXT_OBEY", opts.obey_robots, priority="spider")
        crawler.settings.set("AUTOTHROTTLE_ENABLED", opts.autothrottle, priority="spider")
        crawler.settings.set("DEPTH_LIMIT", opts.max_depth + 1, priority="spider")  # our own check is exact
        render.apply_settings(crawler, opts)
        auth.apply_settings(crawler, opts)  # after render: it scopes the browser's headers too
        spider.setup_recheck()
        return spider

    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hosts = {urlsplit(u).hostname or "" for u in self.options.start_urls}
        self.allowed_domains = sorted(self.hosts)
        # hosts are checked here, not with allow_domains, which compares host:port and misses non-default ports
        self.extensions = frozenset(f".{ext}" for ext in self.options.documents)
        # Scrapy's extractor skips links to documents (and media) by default: keep the ones we index
        skipped = set(IGNORED_EXTENSIONS) - set(self.options.documents)
        self.links = LinkExtractor(allow=self.options.allow, deny=self.options.deny, deny_extensions=skipped)
        self.indexed: set[str] = set()

    @classmethod
    def ping(cls, options: WebOptions) -> None:
        """The first start URL answers with a page (robots.txt and links are the crawl's business); with
        ``auth:``, logged in (connectors.auth.ping)."""
        render.check_ready(options)  # no silent fallback to unrendered pages when Chromium is missing
        auth.check_ready(options)
        url = options.start_urls[0]
        session = auth.login_session(options) if options.auth else None
        resp = get_page(url, options.auth, session, what="start page", hint="check start_urls")
        ctype = resp.headers.get("Content-Type", "")
        if "html" not in ctype.lower():
            raise ConnectorError(f"start page {url} is not HTML (Content-Type {ctype or '?'}); check start_urls")

    async def start_full(self) -> AsyncIterator[Output]:
        for url in self.options.start_urls:
            yield scrapy.Request(url, callback=self.parse_page, errback=self.listing_errback, meta={"depth": 0})

    def _wanted(self, url: str) -> bool:
        if self.options.allow and not any(re.search(p, url) for p in self.options.allow):
            return False
        return not any(re.search(p, url) for p in self.options.deny)

    def _drop(self, reason: str, url: str, detail: str) -> None:
        self.crawler.stats.inc_value(f"pushcrawl/dropped/{reason}")
        self.logger.info("not indexed (%s): %s: %s", reason, url, detail)

    def parse_page(self, response: Response, follow: bool = True) -> Iterator[Output]:
        if urlsplit(response.url).hostname not in self.hosts:
            # a redirect to another host that reached us: Scrapy's offsite check lets through a request marked
            # dont_filter (a page retried after a re-login is), and a rendered page follows its redirects inside
            # the browser. The connector crawls its start hosts only: never index another host's page
            requested = response.request.url if response.request is not None else "?"
            self._drop("offsite_redirect", response.url, f"redirected there from {requested}")
            return
        self.seen(mapping.strip_fragment(response.url))
        if response.request is not None:
            self.seen(mapping.strip_fragment(response.request.url))
        extension = documents.document_extension(response, self.extensions)
        if extension is not None:
            yield from self._file(response, extension)
            return
        if documents.looks_like_document_link(response, self.extensions):
            self._drop("not_document", response.url, f"a document link answered {documents.content_type(response)}")
            return
        page = mapping.repaired(response)
        try:
            # links first: the extract pipeline consumes the page's parsed tree (shared, not parsed again)
            follow_ups = list(self._follow(page)) if follow else []
            result = self._document(page)
        finally:
            # the tree now lives on the Document only: freed once extracted, not at the next full collection
            htmlparse.release_selector(page)
        if result is not None:
            yield result
        yield from follow_ups

    def _follow(self, response: Response) -> Iterator[scrapy.Request]:
        depth = int(response.meta.get("depth", 0))
        if depth >= self.options.max_depth or not isinstance(response, scrapy.http.TextResponse):
            return
        if "nofollow" in mapping.robots_directives(response.selector):
            return
        # one request per page linked, not per link: an index page (python3.11-doc's contents.html) links the
        # same ~500 pages through ~14,000 #anchors, and Scrapy's dupefilter (which ignores fragments) would drop
        # all but the first of each only after they were made, ~1.3 KB each. The first link's text is kept.
        linked: set[str] = set()
        for link in self.links.extract_links(response):
            if not link.nofollow and urlsplit(link.url).hostname in self.hosts:
                if (url := mapping.strip_fragment(link.url)) in linked:
                    self.crawler.stats.inc_value("pushcrawl/web/same_page_links")
                    continue
                linked.add(url)
                meta: Meta = {"link_text": link.text}
                if documents.url_extension(link.url) in self.extensions:
                    # abort before the body is read when Content-Length says it is too large
                    meta["download_maxsize"] = self.options.max_document_bytes
                yield scrapy.Request(link.url, callback=self.parse_page, errback=self.page_errback, meta=meta)

    def _document(self, response: Response) -> Document | None:
        if isinstance(response, scrapy.http.TextResponse):
            doc_id = mapping.canonical_url(response, self.hosts)
        else:
            doc_id = mapping.strip_fragment(response.url)
        self.seen(doc_id)
        if not self._wanted(doc_id):
            return None
        if doc_id in self.indexed:
            self.crawler.stats.inc_value("pushcrawl/web/duplicate_canonical")
            return None
        result = mapping.page_document(response, doc_id, self.options.fields, self.options.obey_noindex)
        if isinstance(result, mapping.Refused):
            self._drop(result.reason, response.url, result.detail)
            return None
        self.indexed.add(doc_id)
        return result

    def _file(self, response: Response, extension: str) -> Iterator[Output]:
        doc_id = mapping.strip_fragment(response.url)
        self.seen(doc_id)
        if not self._wanted(doc_id) or doc_id in self.indexed:  # a redirect may land outside allow/deny
            return
        if len(response.body) > self.options.max_document_bytes:
            self._drop("too_large", response.url, f"{len(response.body):,} bytes > max_document_bytes")
            return
        self.indexed.add(doc_id)
        self.crawler.stats.inc_value("pushcrawl/web/documents")
        yield documents.binary_document(response, doc_id, extension, response.meta.get("link_text"))

    def parse_rechecked(self, response: Response, known_id: str) -> Iterator[Output]:
        # still there but no longer linked: index it again (unchanged pages are skipped downstream)
        yield from self.parse_page(response, follow=False)

    def page_errback(self, failure: Failure) -> Iterator[Output]:
        request = getattr(failure, "request", None)  # set by Scrapy on a download's failure
        url = mapping.strip_fragment(getattr(request, "url", "?"))
        status = getattr(getattr(failure.value, "response", None), "status", None)
        # robots.txt or offsite: a choice, not a failure
        if isinstance(failure.value, IgnoreRequest) and status is None:
            self.crawler.stats.inc_value("pushcrawl/web/link_skipped")
            return
        cancelled = isinstance(failure.value, DownloadCancelledError | CancelledError)
        if cancelled and request is not None and "download_maxsize" in request.meta:
            # over max_document_bytes: a choice too; it stays seen so an incremental run does not recheck it
            self.seen(url)
            self._drop("too_large", url, f"over max_document_bytes ({self.options.max_document_bytes:,})")
            return
        if status in GONE:
            self.crawler.stats.inc_value("pushcrawl/web/link_gone")
            self.seen(url)
            if self.mode == "incremental" and url in known_ids(self):  # indexed before, positively gone now
                self.crawler.stats.inc_value("pushcrawl/gone")
                yield Deletion(document_id=url, reason=f"HTTP {status}")
            return
        # a page we could not read may still exist: an error, so a full run does not sweep it
        self.crawler.stats.inc_value("pushcrawl/errors")
        self.logger.error("page failed: %s: %s", url, describe(failure))
