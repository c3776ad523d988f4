"""SitemapConnector: crawl every page a set of sitemaps lists (indexes followed, gzip handled).

A listing failure (a sitemap that cannot be fetched or is damaged) makes the run incomplete, so a full run
sweeps nothing. A page that answers 404/410 is counted as gone (a full run's sweep then removes it); any
other page failure is an error, which also blocks the sweep: a transient outage never deletes content.

Incremental runs (lastmod-based): pages indexed before whose ``<lastmod>`` is older than the cursor (the
newest lastmod of the previous run) are not fetched (counted unchanged); pages without a lastmod always are.
Known ids no longer in the sitemaps are rechecked once the crawl is done and deleted only if they answer
404/410 (``connectors.recheck``); a listed page answering 404/410 that was indexed before is deleted too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import scrapy
from pydantic import Field, ValidationInfo, field_validator
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from connectors import auth, render
from connectors.auth.options import AuthenticatedOptions
from connectors.base import Connector, RevalidateOptions
from connectors.failures import describe, is_too_large
from connectors.patterns import RegexList
from connectors.recheck import RecheckMixin, known_ids
from connectors.render import RenderableOptions
from connectors.robots import noindex_reason
from connectors.sitemap.client import ping_sitemaps
from connectors.sitemap.mapping import page_document
from connectors.sitemap.parse import parse_lastmod, parse_sitemap
from crawler import dates
from crawler.model import Deletion
from crawler.scrapytypes import Output
from pipelines import htmlparse


class SitemapOptions(RevalidateOptions, RenderableOptions, AuthenticatedOptions):
    sitemap_urls: list[str] = Field(min_length=1, description="sitemap or sitemap-index URLs (http, https, file)")
    allow: RegexList = Field(default_factory=list, description="only page URLs matching one of these regexes")
    deny: RegexList = Field(default_factory=list, description="skip page URLs matching one of these regexes")
    obey_noindex: bool = Field(
        True, description="drop pages marked noindex (robots meta or X-Robots-Tag); false indexes them anyway"
    )

    @field_validator("sitemap_urls")
    @classmethod
    def _urls(cls, urls: list[str], info: ValidationInfo) -> list[str]:
        base = Path((info.context or {}).get("base_dir", "."))
        out = []
        for url in urls:
            if re.match(r"^(https?|file)://", url):
                out.append(url)
            elif "://" in url:
                raise ValueError(f"an http(s) or file URL, or a local path (got {url!r})")
            else:  # a local path, relative to settings.yaml's folder
                out.append((base / url).resolve().as_uri())
        return out


#: sitemaps are XML for the parser, never pages for the browser (render: always)
NO_RENDER = {"dont_render": True}


def cursor_value(when: datetime) -> str:
    """A cursor string that sorts like the time it holds (fixed width, UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SitemapConnector(RecheckMixin, Connector[SitemapOptions]):
    name = "sitemap"
    Options = SitemapOptions
    revalidates = True  # pages are asked for with their validators: a 304 is not downloaded again
    supports_incremental = True  # lastmod-based; URLs gone from the sitemaps are rechecked (404/410 → delete)
    _since: datetime | None = None
    _known: frozenset[str] | set[str] = frozenset()

    @classmethod
    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        render.apply_settings(crawler, spider.options)
        auth.apply_settings(crawler, spider.options)  # after render: it scopes the browser's headers too
        spider.setup_recheck()
        return spider

    @classmethod
    def ping(cls, options: SitemapOptions) -> None:
        render.check_ready(options)  # no silent fallback to unrendered pages when Chromium is missing
        auth.check_ready(options)
        # a login that fails raises here, before any sitemap is read (the error names the user)
        session = auth.login_session(options) if options.auth else None
        ping_sitemaps(options.sitemap_urls, options.auth, session)

    async def start_full(self) -> AsyncIterator[Output]:
        for request in self._sitemaps(None):
            yield request

    async def start_incremental(self, since: str) -> AsyncIterator[Output]:
        for request in self._sitemaps(parse_lastmod(since)):
            yield request

    def _sitemaps(self, since: datetime | None) -> Iterator[scrapy.Request]:
        self._since = since  # pages with a lastmod before it are skipped (parse_sitemap)
        self._known = known_ids(self)
        for url in self.options.sitemap_urls:
            yield scrapy.Request(
                url, callback=self.parse_sitemap, errback=self.listing_errback, dont_filter=True, meta=NO_RENDER
            )

    def _wanted(self, url: str) -> bool:
        if self.options.allow and not any(re.search(p, url) for p in self.options.allow):
            return False
        return not any(re.search(p, url) for p in self.options.deny)

    def parse_sitemap(self, response: Response) -> Iterator[Output]:
        parsed = parse_sitemap(response.body, response.url)
        if parsed.damaged:  # sitemaps come under many types, so parsing decides; the type helps to see why
            ctype = (response.headers.get(b"Content-Type") or b"no Content-Type").decode("latin-1")
            self.listing_failed(f"{response.url} ({ctype}): {parsed.damaged}")
        if parsed.invalid_lastmods:  # the page is still crawled, only without a lastmod (always fetched)
            self.crawler.stats.inc_value(dates.INVALID_STAT, len(parsed.invalid_lastmods))
            self.logger.warning(
                "%s: %d <lastmod> value(s) unreadable, pages fetched without one: %s",
                response.url,
                len(parsed.invalid_lastmods),
                "; ".join(parsed.invalid_lastmods[:3]),
            )
        self.crawler.stats.inc_value("pushcrawl/sitemaps")
        for entry in parsed.entries:
            if parsed.kind == "sitemapindex":
                yield scrapy.Request(
                    entry.loc, callback=self.parse_sitemap, errback=self.listing_errback, meta=NO_RENDER
                )
            elif self._wanted(entry.loc):
                self.seen(entry.loc)
                if entry.lastmod is not None:
                    self.advance_cursor(cursor_value(entry.lastmod))
                    # strictly older only (an equal lastmod may hide a later edit: date-only lastmods), and
                    # only pages indexed before (a URL new to the sitemap may carry an old lastmod)
                    if self._since is not None and entry.lastmod < self._since and entry.loc in self._known:
                        self.crawler.stats.inc_value("pushcrawl/sitemap/not_modified")
                        self.crawler.stats.inc_value("pushcrawl/unchanged")
                        continue
                self.crawler.stats.inc_value("pushcrawl/expected")  # the progress line's total
                yield scrapy.Request(
                    entry.loc,
                    callback=self.parse_page,
                    errback=self.page_errback,
                    cb_kwargs={"lastmod": entry.lastmod},
                )

    def parse_page(self, response: Response, lastmod: datetime | None = None) -> Iterator[Output]:
        self.seen(response.url)
        try:
            if self.options.obey_noindex and (why := noindex_reason(response)):
                self.crawler.stats.inc_value("pushcrawl/dropped/noindex")
                self.logger.info("dropped (noindex) %s: %s", response.url, why)
                return
            doc = page_document(response, lastmod)
            if doc is not None and doc.html is not None and isinstance(response, TextResponse):
                cached = response._cached_selector  # Scrapy's cache of response.selector, read without making one
                if cached is not None and doc.html is response.text:
                    # parsed already (the noindex check, render auto): the extract pipeline takes this tree
                    # instead of parsing the page again
                    htmlparse.share_tree(doc, cached.root)
        finally:
            # the tree now lives on the Document only: freed once extracted, not at the next full collection
            htmlparse.release_selector(response)
        if doc is None:
            self.crawler.stats.inc_value("pushcrawl/dropped/unsupported_content")
            self.logger.warning(
                "skipped %s: content type %s is not indexable",
                response.url,
                response.headers.get("Content-Type"),
            )
            return
        yield doc

    def page_errback(self, failure: Failure) -> list[Deletion]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        error = failure.value
        if isinstance(error, HttpError) and error.response.status in (404, 410):
            self.crawler.stats.inc_value("pushcrawl/gone")
            self.logger.info("gone (%s): %s", error.response.status, url)
            if self.mode == "incremental" and url in known_ids(self):  # indexed before, positively gone now
                return [Deletion(document_id=url, reason=f"HTTP {error.response.status}")]
            return []
        if is_too_large(failure):  # over DOWNLOAD_MAXSIZE (the file container limit): cannot be pushed anyway
            self.crawler.stats.inc_value("pushcrawl/dropped/too_large")
            self.logger.warning("dropped (too_large) %s: %s", url, describe(failure))
            return []
        self.crawler.stats.inc_value("pushcrawl/errors")
        self.logger.error("page failed: %s: %s", url, describe(failure))
        return []
