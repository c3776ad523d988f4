"""AuthMiddleware: credentials on every request to the site's hosts and on no other, lost sessions caught.

Requests (``process_request``):
- to a host outside ``connectors.auth.hosts_of`` (an offsite link, a redirect elsewhere): the credential
  header is removed if a redirect carried it over, and nothing is added (cookies are the jar's, per domain);
- to the site: basic and header logins add their header, cookies logins their cookies (merged into Scrapy's
  jar, host-only), form logins log in first (``session.FormSession``); a rendered page gets the jar's cookies
  in its browser context (``browser.share_cookies``);
- the login page and ``auth.skip`` URLs (logout links) are never fetched as pages:
  ``pushcrawl/auth/skipped`` (the login page is therefore never indexed).

Responses (``process_response``): an answer that is the login wall (``forms.on_login_page``: a redirect to the
login page, its form, or 401) means the session is lost. A form login logs in again once and the request
that met the wall is retried once under the new session; a second wall for the same request, or a kind that
cannot log in again (basic, header, cookies), drops it as ``pushcrawl/dropped/login_required`` and marks the
run incomplete (``listing_failed``: nothing is swept after a run that could not read every page). A login
that fails stops the run.
"""

from __future__ import annotations

import logging
import re
from typing import NoReturn
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from connectors.auth import add_cookies, credential_headers, hostname, hosts_of
from connectors.auth.browser import PAGE_INIT, basic_context
from connectors.auth.forms import LoginError, on_login_page
from connectors.auth.options import AuthOptions, BasicLogin, CookiesLogin, FormLogin, login_path
from connectors.auth.session import LOGIN, FormSession

logger = logging.getLogger(__name__)

GENERATION = "pushcrawl_auth_generation"
RETRIED = "pushcrawl_auth_retried"
#: meta a retried request must not keep: redirect history, and the browser's page of the first attempt
_STALE = ("redirect_urls", "redirect_times", "redirect_ttl", "redirect_reasons", "pushcrawl_render")


class AuthMiddleware:
    def __init__(self, crawler: Crawler, auth: AuthOptions, hosts: frozenset[str]) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.auth = auth
        self.hosts = hosts
        self.headers = credential_headers(auth)
        self.login_path = login_path(auth)
        self.skip = [re.compile(p) for p in auth.skip]
        self.session = FormSession(crawler, auth) if isinstance(auth, FormLogin) else None
        self._stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AuthMiddleware:
        options = getattr(crawler.spider, "options", None)
        auth = getattr(options, "auth", None)
        if auth is None:
            raise NotConfigured("no auth")
        return cls(crawler, auth, hosts_of(options, auth))

    def _on_site(self, url: str) -> bool:
        return hostname(url) in self.hosts

    def _is_login_page(self, url: str) -> bool:
        return self.login_path is not None and urlsplit(url).path == self.login_path

    async def process_request(self, request: Request) -> Request | None:
        if request.meta.get(LOGIN):
            return None
        if not self._on_site(request.url):
            for name in self.headers:  # a redirect from the site copies its headers: not to another host
                request.headers.pop(name, None)
            return None
        if self._is_login_page(request.url):
            if "redirect_urls" in request.meta and not _robots(request):  # sent to the login page: session lost
                return await self._lost(request, f"redirected to the login page {request.url}")
            return self._skipped(request, "the login page")
        if any(p.search(request.url) for p in self.skip):
            return self._skipped(request, "matches auth.skip (a logout link)")
        for name, value in self.headers.items():
            request.headers[name] = value
        request.meta.setdefault("playwright_page_init_callback", PAGE_INIT)  # used only if the page renders
        if isinstance(self.auth, BasicLogin):  # the browser answers the challenge itself, for this origin only
            request.meta.setdefault("playwright_context_kwargs", basic_context(self.auth, request.url))
        if isinstance(self.auth, CookiesLogin):
            add_cookies(request, self._static_cookies())
        if self.session is not None and request.url.endswith("/robots.txt"):
            # robots.txt may be read while the login itself is being fetched: waiting for it would deadlock
            if self.session.cookies:
                add_cookies(request, self.session.cookies)
        elif self.session is not None:
            try:
                await self.session.ensure()
            except LoginError as exc:
                self._stop(str(exc))
                raise IgnoreRequest(f"not logged in: {request.url}") from None
            request.meta[GENERATION] = self.session.generation
            if self.session.cookies:
                add_cookies(request, self.session.cookies)
        return None

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get(LOGIN) or not self._on_site(request.url) or not on_login_page(response, self.auth):
            return response
        if _robots(request):  # read before the login, or behind it: Scrapy then treats robots.txt as allow-all
            return response
        return await self._lost(request, f"{response.url} answered the login page (HTTP {response.status})")

    async def _lost(self, request: Request, why: str) -> Request:
        """The session is gone: log in again and retry ``request`` once, or drop it (fail closed)."""
        original = (request.meta.get("redirect_urls") or [request.url])[0]
        self.stats.inc_value("pushcrawl/auth/session_lost")
        if self.session is None or request.meta.get(RETRIED):
            self._refuse(original, why)
        assert self.session is not None
        try:
            await self.session.relogin(int(request.meta.get(GENERATION, 0)))
        except LoginError as exc:
            self._stop(str(exc))
            self._refuse(original, why)
        retry = request.replace(url=original, dont_filter=True)
        for key in [k for k in retry.meta if k in _STALE or k.startswith("playwright")]:
            del retry.meta[key]
        retry.meta[RETRIED] = True
        self.stats.inc_value("pushcrawl/auth/retried")
        logger.info("retrying %s under the new session", original)
        return retry

    def _refuse(self, url: str, why: str) -> NoReturn:
        self.stats.inc_value("pushcrawl/dropped/login_required")
        spider: object = self.crawler.spider
        if hasattr(spider, "listing_failed"):  # a page we could not read: no sweep after this run
            spider.listing_failed(f"{url}: login required ({why}) with {self.auth.user}")
        raise IgnoreRequest(f"login_required: {url}")

    def _skipped(self, request: Request, why: str) -> NoReturn:
        self.stats.inc_value("pushcrawl/auth/skipped")
        logger.info("not fetched (%s): %s", why, request.url)
        raise IgnoreRequest(f"auth: {why}: {request.url}")

    def _stop(self, message: str) -> None:
        """A login failed: the run cannot read the site; it ends now, incomplete (nothing is swept)."""
        if self._stopping:
            return
        self._stopping = True
        logger.error("login failed: %s", message)
        spider: object = self.crawler.spider
        if hasattr(spider, "listing_failed"):
            spider.listing_failed(f"login failed: {message}")
        engine = self.crawler.engine
        if engine is not None:  # not awaited: closing waits for the downloads, this one among them
            deferred_from_coro(engine.close_spider_async(reason="login_failed"))

    def _static_cookies(self) -> dict[str, str]:
        assert isinstance(self.auth, CookiesLogin)
        return {name: value.get_secret_value() for name, value in self.auth.cookies.items()}


def _robots(request: Request) -> bool:
    """robots.txt, or the login page a request for it was redirected to (``redirect_urls`` keeps the first URL)."""
    first = (request.meta.get("redirect_urls") or [request.url])[0]
    return str(first).endswith("/robots.txt")
