"""The WordPress spider: ``_embed`` listings paged by ``X-WP-TotalPages``, then media, plus identities.

Phases: users (with credentials) and every post type's listing start together; once they are done
(``spider_idle``) the media listing runs, because an attachment is indexed only as the child of a public
post seen in the first phase. A full run lists ids from the content it reads; an incremental run reads
only what changed (``modified_after``) plus a light ``_fields=id,link,status`` listing of every id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from connectors.base import Connector
from connectors.failures import describe
from connectors.http import json_body, polite_settings
from connectors.wordpress import client, mapping
from connectors.wordpress.client import WordPressOptions
from crawler.jsontypes import JSONObject
from crawler.model import Deletion, Permissions
from crawler.scrapytypes import Output

MEDIA_FIELDS = "id,link,slug,title,caption,alt_text,source_url,mime_type,post,date_gmt,modified_gmt,modified"


class WordPressConnector(Connector[WordPressOptions]):
    name = "wordpress"
    Options = WordPressOptions
    supports_incremental = True
    supports_permissions = True
    lists_all_ids = True
    custom_settings = polite_settings()

    @classmethod
    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> WordPressConnector:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        return spider

    # Any: passed through to scrapy.Spider, which takes arbitrary arguments (``scrapy crawl -a key=value``)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.public_parents: dict[int, str] = {}  # id → link of published posts: media may hang under them
        self.users: list[JSONObject] = []
        self._user_pages: set[int] = set()
        self._media_started = False

    @classmethod
    def ping(cls, options: WordPressOptions) -> None:
        client.ping(options)

    # ---- requests ----
    # Any: scrapy.Request's keyword arguments
    def _request(self, path: str, params: JSONObject, kind: str, page: int = 1, **kw: Any) -> scrapy.Request:
        url = client.api_url(self.options, path, {**params, "page": page})
        return scrapy.Request(
            url,
            headers=client.headers(self.options),
            callback=self.parse_listing,
            errback=kw.pop("errback", self.listing_errback),
            cb_kwargs={"path": path, "params": params, "kind": kind, "page": page},
            dont_filter=True,
        )

    def _since(self) -> dict[str, str]:
        return {"modified_after": client.overlap(self.since)} if self.since else {}

    async def start_full(self) -> AsyncIterator[Output]:
        for request in self._start_requests(None):
            yield request

    async def start_incremental(self, since: str) -> AsyncIterator[Output]:
        # listings of what was modified after the cursor, plus id-only listings to find deletions; later pages
        # of a listing keep the filter through ``self.since`` (the same cursor)
        for request in self._start_requests(since):
            yield request

    def _start_requests(self, since: str | None) -> Iterator[scrapy.Request]:
        size = self.options.page_size
        if since:
            self.advance_cursor(since)  # never move the cursor back when nothing changed
        if self.options.auth is not None:
            users = {"context": "edit", "per_page": 100, "orderby": "id"}
            yield self._request("users", users, "users", errback=self._identity_errback)
        for base in self.options.post_types:
            common = {
                "per_page": size,
                "status": client.statuses(self.options),
                "orderby": "id",
                "order": "asc",
            }
            content = {**common, "_embed": "author,wp:term", **self._since()}
            if self.options.protected_content == "full":
                # WordPress sends a protected post's body only in the edit context (view context gives "" even
                # to an administrator), so the opt-in reads the listing as an editor.
                content["context"] = "edit"
            yield self._request(base, content, "content")
            if since:
                yield self._request(base, {**common, "_fields": "id,link,status"}, "ids")

    def _on_idle(self) -> None:
        if not self.options.include_media or self._media_started:
            return
        self._media_started = True
        common = {"per_page": self.options.page_size, "orderby": "id", "order": "asc"}
        assert self.crawler.engine is not None
        self.crawler.engine.crawl(self._request("media", {**common, "_fields": MEDIA_FIELDS, **self._since()}, "media"))
        if self.since:
            self.crawler.engine.crawl(self._request("media", {**common, "_fields": "id,link,post"}, "media_ids"))
        raise DontCloseSpider

    # ---- callbacks ----
    def parse_listing(
        self, response: Response, path: str, params: JSONObject, kind: str, page: int
    ) -> Iterator[Output]:
        try:
            objects = json_body(response)
            if not isinstance(objects, list):
                raise ValueError(f"{response.url}: not a JSON list")
        except ValueError as exc:  # includes NotJSON: a login page or a proxy's error page
            if kind == "users":
                self.logger.warning("users listing: %s; identities not pushed", exc)
            else:
                self.listing_failed(str(exc))
            return
        if page == 1:
            pages = client.total_pages(response.headers)
            if kind == "users":
                self._user_pages = set(range(2, pages + 1))
            for n in range(2, pages + 1):
                eb = self._identity_errback if kind == "users" else self.listing_errback
                yield self._request(path, params, kind, page=n, errback=eb)
        yield from getattr(self, f"_on_{kind}")(objects, page)

    def _on_content(self, posts: list[JSONObject], page: int) -> Iterator[Output]:
        for post in posts:
            if not isinstance(post, dict) or not post.get("link") or "id" not in post:
                self.crawler.stats.inc_value("pushcrawl/wordpress/malformed")
                continue
            self.advance_cursor(post.get("modified"))
            try:
                doc = mapping.map_post(post, self.options.private_roles, self.options.protected_content)
            except (KeyError, TypeError, ValueError) as exc:
                self.logger.warning("cannot map %s: %s", post.get("link"), exc)
                self.crawler.stats.inc_value("pushcrawl/wordpress/malformed")
                continue
            if doc is None:
                self.crawler.stats.inc_value("pushcrawl/wordpress/protected_skipped")
                if self.since:  # it may have been indexed before its password was set
                    yield Deletion(document_id=str(post["link"]), reason="password-protected")
                continue
            if not self.since:
                self.list_id(doc.document_id)
            if post.get("status") == "publish" and not mapping.is_protected(post):
                self.public_parents[int(post["id"])] = doc.document_id
            yield doc

    def _on_ids(self, posts: list[JSONObject], page: int) -> Iterator[Output]:
        for post in posts:
            if isinstance(post, dict) and post.get("link"):
                self.list_id(str(post["link"]))
                if post.get("status") == "publish":
                    self.public_parents.setdefault(int(post["id"]), str(post["link"]))
        return iter(())

    def _media_parent(self, media: JSONObject) -> tuple[bool, str | None]:
        """(index it?, parent id): unattached media stand alone; media of non-public posts are not indexed."""
        parent = media.get("post")
        if not parent:
            return True, None
        link = self.public_parents.get(int(parent))
        return link is not None, link

    def _on_media(self, items: list[JSONObject], page: int) -> Iterator[Output]:
        for media in items:
            if not isinstance(media, dict) or not media.get("source_url"):
                continue
            self.advance_cursor(media.get("modified"))
            keep, parent = self._media_parent(media)
            if not keep:
                self.crawler.stats.inc_value("pushcrawl/wordpress/media_skipped")
                continue
            if not self.since:
                self.list_id(str(media.get("link") or media["source_url"]))
            yield scrapy.Request(
                str(media["source_url"]),
                callback=self.parse_binary,
                errback=self._binary_errback,
                cb_kwargs={"media": media, "parent": parent},
            )

    def _on_media_ids(self, items: list[JSONObject], page: int) -> Iterator[Output]:
        for media in items:
            if isinstance(media, dict) and media.get("link") and self._media_parent(media)[0]:
                self.list_id(str(media["link"]))
        return iter(())

    def _on_users(self, users: list[JSONObject], page: int) -> Iterator[Output]:
        self.users.extend(u for u in users if isinstance(u, dict))
        self._user_pages.discard(page)
        if not self._user_pages:
            yield from mapping.map_identities(self.users, self.options.private_roles)

    def parse_binary(self, response: Response, media: JSONObject, parent: str | None) -> Iterator[Output]:
        yield mapping.map_media(media, response.body, parent, Permissions.everyone())

    def _binary_errback(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        self.logger.warning("media download failed: %s (%s)", getattr(request, "url", "?"), describe(failure))
        self.crawler.stats.inc_value("pushcrawl/wordpress/media_errors")

    def _identity_errback(self, failure: Failure) -> None:
        self._user_pages.add(-1)  # never complete: a partial member list must not replace the groups
        self.logger.warning(
            "cannot list users (%s): identities are not pushed; the account needs the list_users capability",
            describe(failure),
        )
        self.crawler.stats.inc_value("pushcrawl/identity_errors")
