"""MediaWikiConnector: wiki pages through the Action API, batched, with recentchanges-based increments.

Full run: siteinfo (URL scheme, server time = next cursor) → ``list=allpages`` per namespace (``apcontinue``)
→ pages fetched ``batch_size`` at a time with ``prop=revisions|categories|info`` (``clcontinue`` and
``rvcontinue`` merged) → one Document per page. Redirects are not indexed.

Incremental run: ``list=recentchanges`` (edits, new pages, log entries such as moves: both the old and the
new title) and ``list=logevents&letype=delete`` since the cursor give the titles that changed; those titles
are queried in batches and the current answer decides: a page → Document, a missing page or a redirect →
Deletion (positively gone). A cursor older than ``rc_max_age_days`` falls back to a full listing. The
cursor also names the entries of its last second, which the next run skips (``cursor`` says why).

With ``auth`` (a bot password) the run starts with a login (``client`` has the request shapes) and every API
request carries ``assert=user``. Every answer passes through ``_api``: an error never reaches a callback, so a
page the wiki refused to show is neither indexed nor mistaken for a deleted one. A lost session
(``assertuserfailed``) triggers one new login, and the refused request is retried once under it; if that
fails too, the request counts as an error (a listing error for listings), which makes the run not proven
complete: nothing is swept and the cursor stays where it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from connectors.base import Connector
from connectors.failures import describe
from connectors.http import JSON_HEADERS, auth_headers, json_body, polite_settings
from connectors.mediawiki import client, mapping
from connectors.mediawiki.cursor import ChangeCursor, entry_key
from crawler.jsontypes import JSONObject
from crawler.scrapytypes import Meta, Output

#: login requests jump the queue: every other request waits for the session they open
LOGIN_PRIORITY = 100


class MediaWikiConnector(Connector[client.MediaWikiOptions]):
    name = "mediawiki"
    Options = client.MediaWikiOptions
    supports_incremental = True
    custom_settings = polite_settings()
    site_info: mapping.Site | None = None
    _changes_since: str | None = None  # the cursor of an incremental crawl (start_incremental)

    @classmethod
    def ping(cls, options: client.MediaWikiOptions) -> None:
        client.ping(options)

    async def start_full(self) -> AsyncIterator[Output]:
        async for request in self._start():
            yield request

    async def start_incremental(self, since: str) -> AsyncIterator[Output]:
        # whether the changes since the cursor can still be read is known from the wiki's siteinfo (its clock
        # and recentchanges' age): parse_siteinfo decides, listing every page when they cannot
        self._changes_since = since
        async for request in self._start():
            yield request

    async def _start(self) -> AsyncIterator[Output]:
        self._queued_titles: set[str] = set()
        self._changes: ChangeCursor | None = None  # incremental runs: where the previous run stopped
        self._logins = 0  # successful logins so far; each request remembers the count it was made under
        self._login_broken = False
        # requests waiting for a login under way (None: no login under way)
        self._waiting: list[scrapy.Request] | None = None
        siteinfo = self._get(client.siteinfo_url(self.options.api_url), self.parse_siteinfo, listing=True)
        if self.options.auth is None:
            yield siteinfo
        else:
            self._waiting = [siteinfo]
            yield self._login_request()

    # Any: the handler's keyword arguments, Scrapy's cb_kwargs (typed dict[str, Any])
    def _get(
        self, url: str, callback: Callable[..., object], listing: bool = False, **cb_kwargs: Any
    ) -> scrapy.Request:
        """An API request whose answer is checked by ``_api`` and then handed to ``callback``."""
        if self.options.auth is not None:
            url = client.asserting(url)
        return scrapy.Request(
            url,
            callback=self._api,
            errback=self.listing_errback if listing else self.item_errback,
            cb_kwargs={"handler": callback.__name__, **cb_kwargs},
            meta={"mw_listing": listing, "mw_logins": self._logins},
            headers={**JSON_HEADERS, **auth_headers(self.options.http_auth)},
            dont_filter=True,
        )

    # Any: the handler's keyword arguments, Scrapy's cb_kwargs (typed dict[str, Any])
    def _api(self, response: Response, handler: str, **kwargs: Any) -> Iterator[Output]:
        listing = bool(response.meta.get("mw_listing"))
        try:
            data = client.check(json_body(response))
        except client.ApiError as exc:
            if self.options.auth is not None and exc.code in client.SESSION_LOST and response.request is not None:
                yield from self._session_lost(response.request, str(exc))
            else:
                self._failed(listing, f"{response.url}: {exc}")
            return
        except ValueError as exc:
            self._failed(listing, f"{response.url}: {exc}")
            return
        yield from getattr(self, handler)(response, data, **kwargs)

    def _failed(self, listing: bool, message: str) -> None:
        self.listing_failed(message) if listing else self._error(message)

    # ---- login (bot password) and the session kept in cookies ----
    def _login_request(self, form: dict[str, str] | None = None) -> scrapy.Request:
        """The token request (no ``form``) or the login POST; both go before every waiting request."""
        common: Meta = {
            "errback": self.login_errback,
            "headers": {**JSON_HEADERS, **auth_headers(self.options.http_auth)},
            "priority": LOGIN_PRIORITY,
            "dont_filter": True,
        }
        if form is None:
            url = client.login_token_url(self.options.api_url)
            return scrapy.Request(url, callback=self.parse_login_token, **common)
        return scrapy.FormRequest(self.options.api_url, formdata=form, callback=self.parse_login, **common)

    def parse_login_token(self, response: Response) -> Iterator[Output]:
        assert self.options.auth is not None
        try:
            token = client.login_token(json_body(response))
        except (ValueError, client.LoginError) as exc:
            self._login_failed(str(exc))
            return
        yield self._login_request(client.login_form(self.options.auth, token))

    def parse_login(self, response: Response) -> Iterator[Output]:
        assert self.options.auth is not None
        try:
            client.check_login(json_body(response), self.options.api_url, self.options.auth.username)
        except (ValueError, client.LoginError) as exc:
            self._login_failed(str(exc))
            return
        self._logins += 1
        self.crawler.stats.inc_value("pushcrawl/logins")
        self.logger.info("logged in to %s as %s", self.options.api_url, self.options.auth.username)
        waiting, self._waiting = self._waiting or [], None
        yield from waiting

    def login_errback(self, failure: Failure) -> None:
        self._login_failed(describe(failure))

    def _login_failed(self, why: str) -> None:
        """No session: every request that waited for it fails, so the run is not proven complete."""
        self._login_broken = True
        self._error(f"login to {self.options.api_url} failed: {why}")
        for request in self._waiting or []:
            self._failed(bool(request.meta.get("mw_listing")), f"{request.url}: not fetched, no logged-in session")
        self._waiting = None

    def _session_lost(self, request: scrapy.Request, why: str) -> Iterator[scrapy.Request]:
        """A logged-in request was answered as anonymous: log in again (once per loss) and retry it once."""
        listing = bool(request.meta.get("mw_listing"))
        if request.meta.get("mw_retried") or self._login_broken:
            self._failed(listing, f"{request.url}: {why} (session lost, not retried again)")
            return
        # only our own keys: Scrapy's (download latency, slot, ...) belong to the first attempt
        meta = {k: v for k, v in request.meta.items() if k.startswith("mw_")}
        retry = request.replace(meta={**meta, "mw_retried": True})
        if self._waiting is not None:  # a login is under way: retry with the session it opens
            self._waiting.append(retry)
        elif int(request.meta.get("mw_logins", 0)) < self._logins:
            yield retry  # made before the latest login: its old session is why it failed, the new one is there
        else:
            self.logger.warning("session lost (%s): logging in to %s again", why, self.options.api_url)
            self._waiting = [retry]
            yield self._login_request()

    def _incremental(self) -> bool:
        if not self._changes_since:
            return False
        since = mapping.parse_time(ChangeCursor.parse(self._changes_since).timestamp)
        if since is None or since < datetime.now(UTC) - timedelta(days=self.options.rc_max_age_days):
            self.logger.warning("cursor %s is older than recentchanges keeps: listing every page", self._changes_since)
            return False
        return True

    def parse_siteinfo(self, response: Response, data: JSONObject) -> Iterator[scrapy.Request]:
        self.site_info = mapping.Site.from_siteinfo(data, self.options.api_url)
        server_time = ((data.get("query") or {}).get("general") or {}).get("time")
        api = self.options.api_url
        if self._incremental():
            assert self._changes_since is not None
            self._changes = ChangeCursor.parse(self._changes_since)
            since = self._changes.timestamp
            yield self._get(
                client.recentchanges_url(api, since, self.options.namespaces),
                self.parse_changes,
                listing=True,
                kind="recentchanges",
            )
            yield self._get(client.deletions_url(api, since), self.parse_changes, listing=True, kind="logevents")
        else:
            if server_time:  # changes made while this run lists pages are picked up by the next run
                self.advance_cursor(str(server_time))
            for ns in self.options.namespaces:
                yield self._get(client.allpages_url(api, ns), self.parse_allpages, listing=True, namespace=ns)

    def parse_allpages(self, response: Response, data: JSONObject, namespace: int) -> Iterator[scrapy.Request]:
        pageids = [int(p["pageid"]) for p in (data.get("query") or {}).get("allpages", [])]
        for start in range(0, len(pageids), self.options.batch_size):
            batch = pageids[start : start + self.options.batch_size]
            yield self._get(client.pages_url(self.options.api_url, pageids=batch), self.parse_pages, acc={})
        if "continue" in data:
            url = client.continued(response.url, data["continue"])
            yield self._get(url, self.parse_allpages, listing=True, namespace=namespace)

    def parse_changes(self, response: Response, data: JSONObject, kind: str) -> Iterator[scrapy.Request]:
        titles: list[str] = []
        changes = self._changes
        assert changes is not None
        for entry in (data.get("query") or {}).get(kind, []):
            key, stamp = entry_key(kind, entry), str(entry.get("timestamp") or "")
            if stamp and changes.already_handled(key, stamp):
                continue  # met in the previous run's last second, and handled then
            if stamp:
                changes.advance(key, stamp)
                self.new_cursor = changes.dump()
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

    def parse_pages(self, response: Response, data: JSONObject, acc: dict[int | str, JSONObject]) -> Iterator[Output]:
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

    def _emit(self, pages: Iterable[JSONObject]) -> Iterator[Output]:
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

    def parse_rendered(self, response: Response, data: JSONObject, page: JSONObject) -> Iterator[Output]:
        if self.site_info is None:
            return
        html = (data.get("parse") or {}).get("text")
        doc = mapping.page_document(page, self.site_info, html=html if isinstance(html, str) else None)
        if doc is not None:
            yield doc

    def item_errback(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        self._error(f"{getattr(request, 'url', '?')}: {describe(failure)}")

    def _error(self, message: str) -> None:
        self.crawler.stats.inc_value("pushcrawl/errors")
        self.logger.error("fetch failed: %s", message)
