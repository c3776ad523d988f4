"""SitemapConnector: crawl every page a set of sitemaps lists (indexes followed, gzip handled).

A listing failure (a sitemap that cannot be fetched or is damaged) makes the run incomplete, so a full run
sweeps nothing. A page that answers 404/410 is counted as gone (a full run's sweep then removes it); any
other page failure is an error, which also blocks the sweep: a transient outage never deletes content.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from pydantic import Field, ValidationInfo, field_validator
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from connectors.base import Connector, ConnectorOptions
from connectors.sitemap.mapping import page_document
from connectors.sitemap.parse import parse_sitemap


class SitemapOptions(ConnectorOptions):
    sitemap_urls: list[str] = Field(min_length=1, description="sitemap or sitemap-index URLs (http, https, file)")
    allow: list[str] = Field(default_factory=list, description="only page URLs matching one of these regexes")
    deny: list[str] = Field(default_factory=list, description="skip page URLs matching one of these regexes")

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

    @field_validator("allow", "deny")
    @classmethod
    def _regexes(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"a valid regular expression ({pattern!r}: {exc})") from None
        return patterns


class SitemapConnector(Connector):
    name = "sitemap"
    Options = SitemapOptions
    options: SitemapOptions

    async def start(self) -> AsyncIterator[Any]:
        for url in self.options.sitemap_urls:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.listing_errback, dont_filter=True)

    def _wanted(self, url: str) -> bool:
        if self.options.allow and not any(re.search(p, url) for p in self.options.allow):
            return False
        return not any(re.search(p, url) for p in self.options.deny)

    def parse_sitemap(self, response: Response) -> Any:
        parsed = parse_sitemap(response.body, response.url)
        if parsed.damaged:
            self.listing_failed(f"{response.url}: {parsed.damaged}")
        self.crawler.stats.inc_value("pushcrawl/sitemaps")
        for entry in parsed.entries:
            if parsed.kind == "sitemapindex":
                yield scrapy.Request(entry.loc, callback=self.parse_sitemap, errback=self.listing_errback)
            elif self._wanted(entry.loc):
                yield scrapy.Request(
                    entry.loc,
                    callback=self.parse_page,
                    errback=self.page_errback,
                    cb_kwargs={"lastmod": entry.lastmod},
                )

    def parse_page(self, response: Response, lastmod: Any = None) -> Any:
        doc = page_document(response, lastmod)
        if doc is None:
            self.crawler.stats.inc_value("pushcrawl/dropped/unsupported_content")
            self.logger.warning(
                "skipped %s: content type %s is not indexable",
                response.url,
                response.headers.get("Content-Type"),
            )
            return
        yield doc

    def page_errback(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        error = failure.value
        if isinstance(error, HttpError) and error.response.status in (404, 410):
            self.crawler.stats.inc_value("pushcrawl/gone")
            self.logger.info("gone (%s): %s", error.response.status, url)
            return
        self.crawler.stats.inc_value("pushcrawl/errors")
        self.logger.error("page failed: %s: %s", url, failure.getErrorMessage())
