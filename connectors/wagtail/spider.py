"""WagtailConnector: pages, images and documents of a Wagtail site through its API v2.

Full run: list every page (``/pages/``, or one listing per ``page_types`` entry), fetch each page's detail
unless the typed listing already carries its fields, and download images and documents as binary items.
Every listed id is reported with ``list_id``; the framework deletes what a complete listing no longer has.

Incremental run: the same complete listing (so deletions are found), but only pages published after the
cursor are fetched. The cursor is the newest ``last_published_at`` — a field stock Wagtail does not expose
(add it to the pages endpoint's ``meta_fields``); without it every page is fetched and the changes pipeline
skips the unchanged. Images and documents carry no modification time: a file the index already holds is
fetched again only when its validator (``file_hash`` from the API, else its ETag / Last-Modified) says it
was replaced — see ``files.py``; the validators travel in the cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from connectors.base import Connector
from connectors.failures import describe
from connectors.http import JSON_HEADERS, auth_headers, json_body, polite_settings
from connectors.recheck import known_ids
from connectors.wagtail import client, files, mapping
from crawler.errors import Unchanged
from crawler.jsontypes import JSONObject
from crawler.model import Document
from crawler.scrapytypes import Meta, Output


class WagtailConnector(Connector[client.WagtailOptions]):
    name = "wagtail"
    Options = client.WagtailOptions
    supports_incremental = True
    lists_all_ids = True
    uses_known_ids = True  # a file's saved validators count only for files indexed before (see _file)
    custom_settings = polite_settings()
    _since: datetime | None = None
    _warned_no_last_published = False
    _pages_cursor: str | None = None
    _known: frozenset[str] = frozenset()

    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._old_files: dict[str, files.Validator] = {}  # the cursor's validators (start_incremental)
        self._new_files: dict[str, files.Validator] = {}  # the next cursor's validators (files listed this run)

    @classmethod
    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._item_dropped, signal=signals.item_dropped)
        return spider

    def _item_dropped(self, item: object, exception: BaseException, **_: object) -> None:
        # A file the pipelines refused (too large, empty, ...) is not what the index holds: forget its validator
        # so the next run fetches it again. Unchanged is the one drop after which the index does hold it.
        if isinstance(item, Document) and not isinstance(exception, Unchanged):
            self._new_files.pop(item.document_id, None)

    @classmethod
    def ping(cls, options: client.WagtailOptions) -> None:
        client.ping(options)

    async def start_incremental(self, since: str) -> AsyncIterator[Output]:
        pages, self._old_files = files.load_cursor(since)
        self._since = mapping.parse_time(pages)
        self._pages_cursor = pages  # never move back, even when the newest page was deleted
        self._known = frozenset(known_ids(self))
        async for request in self.start_full():
            yield request

    async def start_full(self) -> AsyncIterator[Output]:
        page_types: list[str | None] = [*self.options.page_types] or [None]
        for page_type in page_types:
            yield self._listing("pages", 0, page_type)
        for endpoint, wanted in (("images", self.options.images), ("documents", self.options.documents)):
            if wanted:
                yield self._listing(endpoint, 0, None)

    def advance_cursor(self, value: str | None) -> None:
        # pages' time only; ``closed`` writes the cursor with the file validators beside it
        if value is not None and (self._pages_cursor is None or value > self._pages_cursor):
            self._pages_cursor = value

    def closed(self, reason: str) -> None:
        self.new_cursor = files.dump_cursor(self._pages_cursor, self._new_files)

    # Any: passed through to scrapy.Request's keyword arguments (callback, meta, cb_kwargs, ...)
    def _request(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> scrapy.Request:
        # credentials go to the CMS host only, never to a media CDN a download URL may point at
        same_host = urlsplit(url).netloc == urlsplit(self.options.base_url).netloc
        return scrapy.Request(
            url, headers={**(auth_headers(self.options.auth) if same_host else {}), **(headers or {})}, **kwargs
        )

    def _listing(self, endpoint: str, offset: int, page_type: str | None) -> scrapy.Request:
        meta: Meta = {}
        if endpoint != "pages":  # an endpoint the site does not expose is a 404, not a failed listing
            meta["handle_httpstatus_list"] = [404]
        return self._request(
            client.listing_url(self.options, endpoint, offset, page_type),
            headers=JSON_HEADERS,
            callback=self.parse_listing,
            errback=self.listing_errback,
            cb_kwargs={"endpoint": endpoint, "offset": offset, "page_type": page_type},
            meta=meta,
            dont_filter=True,
        )

    def parse_listing(self, response: Response, endpoint: str, offset: int, page_type: str | None) -> Iterator[Output]:
        if response.status == 404:
            self.logger.info("%s endpoint not exposed by this site (404): skipped", endpoint)
            return
        try:
            items, total = client.listing_items(json_body(response), response.url)
        except ValueError as exc:  # includes NotJSON: an HTML page (DRF's browsable API, a login wall)
            self.listing_failed(str(exc))
            return
        if offset == 0:
            for next_offset in client.remaining_offsets(total, self.options.page_size):
                yield self._listing(endpoint, next_offset, page_type)
        expected = min(self.options.page_size, max(total - offset, 0))
        if len(items) < expected:  # the site changed under us, or a proxy cut the page: not provably complete
            self.listing_failed(f"{response.url}: {len(items)} items, expected {expected}")
        for item in items:
            if endpoint == "pages":
                yield from self._page(item, page_type)
            else:
                yield from self._asset(item, endpoint)

    def _page(self, item: JSONObject, page_type: str | None) -> Iterator[Output]:
        url = mapping.page_url(item, self.options.base_url)
        self.list_id(url)
        published = mapping.published_at(item)
        if published is not None:
            self.advance_cursor(mapping.cursor_value(published))
        if self._since is not None:
            if "last_published_at" not in (item.get("meta") or {}):
                if not self._warned_no_last_published:
                    self._warned_no_last_published = True
                    self.logger.warning("API exposes no meta.last_published_at: fetching every page")
            elif published is not None and published <= self._since:
                return
        if page_type:
            yield mapping.page_document(item, self.options.base_url, self.options.body_fields)
        else:
            detail = (item.get("meta") or {}).get("detail_url") or f"{client.api_root(self.options)}pages/{item['id']}/"
            yield self._request(detail, headers=JSON_HEADERS, callback=self.parse_page, errback=self.item_errback)

    def parse_page(self, response: Response) -> Iterator[Output]:
        try:
            item = json_body(response)
        except ValueError as exc:
            self._error(f"page detail: {exc}")
            return
        yield mapping.page_document(item, self.options.base_url, self.options.body_fields)

    def _asset(self, item: JSONObject, endpoint: str) -> Iterator[Output]:
        url = mapping.asset_url(item, self.options.base_url)
        if url is None:
            self.crawler.stats.inc_value("pushcrawl/dropped/no_download_url")
            return
        self.list_id(url)
        # only a file the index holds can be "unchanged": one never pushed (or dropped) is fetched again
        previous = self._old_files.get(url) if url in self._known else None
        from_api = files.api_validator(item)
        if from_api is not None:
            self._new_files[url] = from_api
            if from_api == previous:
                self.crawler.stats.inc_value("pushcrawl/wagtail/files_unchanged")
                return
            previous = None  # the API says it changed: no conditional request
        kind = "image" if endpoint == "images" else "document"
        yield self._request(
            url,
            headers=files.conditional_headers(previous),
            callback=self.parse_asset,
            errback=self.item_errback,
            cb_kwargs={"item": item, "kind": kind, "previous": previous},
            meta={"handle_httpstatus_list": [304]} if previous else {},
        )

    def parse_asset(
        self, response: Response, item: JSONObject, kind: str, previous: files.Validator | None = None
    ) -> Iterator[Document]:
        url = mapping.asset_url(item, self.options.base_url) or response.url
        if response.status == 304 and previous:  # still the file the index holds: keep its validator
            self._new_files[url] = previous
            self.crawler.stats.inc_value("pushcrawl/wagtail/files_unchanged")
            return
        if url not in self._new_files and (validator := files.response_validator(response)):
            self._new_files[url] = validator
        # yield, never return, an item: Scrapy would iterate a returned pydantic model field by field
        yield mapping.asset_document(item, kind, url, response.body)

    def item_errback(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        self._error(f"{request.url if request is not None else '?'}: {describe(failure)}")

    def _error(self, message: str) -> None:
        # an item we listed but could not read: counted as an error, so a full run does not sweep it
        self.crawler.stats.inc_value("pushcrawl/errors")
        self.logger.error("fetch failed: %s", message)
