"""MediaWikiConnector: wiki pages through the Action API, batched, with recentchanges-based increments.

Full run: siteinfo (URL scheme, server time = next cursor) → ``list=allpages`` per namespace (``apcontinue``)
→ pages fetched ``batch_size`` at a time with ``prop=revisions|categories|info`` (``clcontinue`` and
``rvcontinue`` merged) → one Document per page. Redirects are not indexed.

Incremental run: ``list=recentchanges`` (edits, new pages, log entries such as moves: both the old and the
new title) and ``list=logevents&letype=delete`` since the cursor give the titles that changed; those titles
are queried in batches and the current answer decides: a page → Document, a missing page or a redirect →
Deletion (positively gone). A cursor older than ``rc_max_age_days`` falls back to a full listing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from connectors.base import Connector
from connectors.http import auth_headers, polite_settings
from connectors.mediawiki import client, mapping


class MediaWikiConnector(Connector):
    name = "mediawiki"
    Options = client.MediaWikiOptions
    options: client.MediaWikiOptions
    supports_incremental = True
    custom_settings = polite_settings()
    site_info: mapping.Site | None = None

    @classmethod
    def ping(cls, options: Any) -> None:
        client.ping(options)

    async def start(self) -> AsyncIterator[Any]:
        self._queued_titles: set[str] = set()
        yield self._get(client.siteinfo_url(self.options.api_url), self.parse_siteinfo, listing=True)

    def _get(self, url: str, callback: Any, listing: bool = False, **cb_kwargs: Any) -> scrapy.Request:
        errback = self.listing_errback if listing else self.item_errback
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback,
            cb_kwargs=cb_kwargs,
            headers=auth_headers(self.options.auth),
            dont_filter=True,
        )

    def _json(self, response: Response, listing: bool) -> dict[str, Any] | None:
        try:
            return client.check(json.loads(response.body))
        except (ValueError, client.ApiError) as exc:
            message = f"{response.url}: {exc}"
            self.listing_failed(message) if listing else self._error(message)
            return None

    def _incremental(self) -> bool:
        if self.mode != "incremental" or not self.since:
            return False
        since = mapping.parse_time(self.since)
        if since is None or since < datetime.now(UTC) - timedelta(days=self.options.rc_max_age_days):
            self.logger.warning("cursor %s is older than recentchanges keeps: listing every page", self.since)
            return False
        return True

    def parse_siteinfo(self, response: Response) -> Iterator[scrapy.Request]:
        data = self._json(response, listing=True)
        if data is None:
            return
        self.site_info = mapping.Site.from_siteinfo(data, self.options.api_url)
        server_time = ((data.get("query") or {}).get("general") or {}).get("time")
        api = self.options.api_url
        if self._incremental():
            assert self.since is not None
            yield self._get(
                client.recentchanges_url(api, self.since, self.options.namespaces),
                self.parse_changes,
                listing=True,
                kind="recentchanges",
            )
            yield self._get(client.deletions_url(api, self.since), self.parse_changes, listing=True, kind="logevents")
        else:
            if server_time:  # changes made while this run lists pages are picked up by the next run
                self.advance_cursor(str(server_time))
            for ns in self.options.namespaces:
                yield self._get(client.allpages_url(api, ns), self.parse_allpages, listing=True, namespace=ns)

    def parse_allpages(self, response: Response, namespace: int) -> Iterator[scrapy.Request]:
        data = self._json(response, listing=True)
        if data is None:
            return
        pageids = [int(p["pageid"]) for p in (data.get("query") or {}).get("allpages", [])]
        for start in range(0, len(pageids), self.options.batch_size):
            batch = pageids[start : start + self.options.batch_size]
            yield self._get(client.pages_url(self.options.api_url, pageids=batch), self.parse_pages, acc={})
        if "continue" in data:
            url = client.continued(response.url, data["continue"])
            yield self._get(url, self.parse_allpages, listing=True, namespace=namespace)

    def parse_changes(self, response: Response, kind: str) -> Iterator[scrapy.Request]:
        data = self._json(response, listing=True)
        if data is None:
            return
        titles: list[str] = []
        for entry in (data.get("query") or {}).get(kind, []):
            self.advance_cursor(entry.get("timestamp"))
            if int(entry.get("ns", 0)) in self.options.namespaces:
                titles.append(str(entry["title"]))
            target = (entry.get("logparams") or {}).get("target_title")
            if entry.get("logtype") == "move" and target:
                titles.append(str(target))  # the old title is queried too: now missing or a redirect
        new = [t for t in dict.fromkeys(titles) if t not in self._queued_titles]
        self._queued_titles.update(new)
        for start in range(0, len(new), self.options.batch_size):
            batch = new[start : start + self.options.batch_size]
            yield self._get(client.pages_url(self.options.api_url, titles=batch), self.parse_pages, acc={})
        if "continue" in data:
            url = client.continued(response.url, data["continue"])
            yield self._get(url, self.parse_changes, listing=True, kind=kind)

    def parse_pages(self, response: Response, acc: dict[int | str, dict[str, Any]]) -> Iterator[Any]:
        data = self._json(response, listing=False)
        if data is None:
            return
        for page in (data.get("query") or {}).get("pages", []):
            key = page.get("pageid") or page.get("title")
            merged = acc.setdefault(key, page)
            if merged is not page:  # a continuation: add what this part carries
                merged["revisions"] = merged.get("revisions") or page.get("revisions")
                merged["categories"] = (merged.get("categories") or []) + (page.get("categories") or [])
        if "continue" in data:
            url = client.continued(response.url, data["continue"])
            yield self._get(url, self.parse_pages, acc=acc)
            return
        yield from self._emit(acc.values())

    def _emit(self, pages: Any) -> Iterator[Any]:
        assert self.site_info is not None
        for page in pages:
            title = str(page.get("title", ""))
            if int(page.get("ns", 0)) not in self.options.namespaces or page.get("invalid"):
                continue
            if mapping.gone(page):
                if self.mode == "incremental":
                    yield mapping.deletion(title, self.site_info, "missing" if page.get("missing") else "redirect")
                continue
            if self.options.content == "rendered":
                url = client.parse_url(self.options.api_url, int(page["pageid"]))
                yield self._get(url, self.parse_rendered, page=page)
                continue
            doc = mapping.page_document(page, self.site_info)
            if doc is None:
                self.crawler.stats.inc_value("pushcrawl/dropped/no_content")
            else:
                yield doc

    def parse_rendered(self, response: Response, page: dict[str, Any]) -> Iterator[Any]:
        data = self._json(response, listing=False)
        if data is None or self.site_info is None:
            return
        html = (data.get("parse") or {}).get("text")
        doc = mapping.page_document(page, self.site_info, html=html if isinstance(html, str) else None)
        if doc is not None:
            yield doc

    def item_errback(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        self._error(f"{getattr(request, 'url', '?')}: {failure.getErrorMessage()}")

    def _error(self, message: str) -> None:
        self.crawler.stats.inc_value("pushcrawl/errors")
        self.logger.error("fetch failed: %s", message)
