"""The crawl's form login: log in before the first page, and once again each time the session is lost.

The login runs inside the crawl, through Scrapy's own downloader (``engine.download_async``), so the session
cookie lands in the cookie jar every later request to the site reads; the requests are marked ``LOGIN`` so
the auth middleware lets them through untouched. With ``render: true`` the form is filled and submitted in
Chromium (scrapy-playwright page methods) and the browser context's cookies are copied to the session,
which then sends them on every request (the plain ones through the cookie jar, the rendered ones too).

``generation`` counts logins. A request remembers the generation it was sent under; when it meets the login
wall, ``relogin(seen)`` logs in again only if no other request already did since (several pages in flight
meet the same expiry: one re-login, not one per page). Each re-login counts ``pushcrawl/auth/relogins``;
past ``max_relogins`` the session gives up and the run stops (a site that logs us out on every page would
otherwise be logged in forever).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from connectors.auth import add_cookies
from connectors.auth.forms import LoginError, fill_steps, logged_in, login_request, refused
from connectors.auth.options import FormLogin
from connectors.render.loop import in_browser
from crawler import secrets
from crawler.scrapytypes import Meta

logger = logging.getLogger(__name__)

#: request meta of the session's own requests: the auth middleware passes them as they are
LOGIN = "pushcrawl_auth_login"


class FormSession:
    def __init__(self, crawler: Crawler, auth: FormLogin) -> None:
        self.crawler = crawler
        self.auth = auth
        self.generation = 0
        self.relogins = 0
        self.failed: str | None = None
        #: cookies read from the browser after a rendered login (empty for a plain login: the jar has them)
        self.cookies: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def ensure(self) -> None:
        """Logged in (the first call logs in); LoginError when the site refuses."""
        if self.generation == 0 or self.failed:
            await self._login_once(0)

    async def relogin(self, seen: int) -> None:
        """Log in again after a request sent under generation ``seen`` met the login wall."""
        await self._login_once(seen)

    async def _login_once(self, seen: int) -> None:
        async with self._lock:
            if self.failed:
                raise LoginError(self.failed)
            if self.generation > seen:  # another request logged in meanwhile
                return
            if self.generation > 0:
                if self.relogins >= self.auth.max_relogins:
                    self.failed = (
                        f"the session of {self.auth.user} was lost {self.relogins + 1} times (auth.max_relogins "
                        f"{self.auth.max_relogins}); the site keeps logging us out: check that no crawled link "
                        "logs out (auth.skip) and the site's session lifetime"
                    )
                    raise LoginError(self.failed)
                self.relogins += 1
                self.crawler.stats.inc_value("pushcrawl/auth/relogins")
                logger.warning("the session of %s was lost: logging in again", self.auth.user)
            try:
                await (self._rendered_login() if self.auth.render else self._plain_login())
            except LoginError as exc:
                self.failed = str(exc)
                self.crawler.stats.inc_value("pushcrawl/auth/login_failed")
                raise
            self.generation += 1
            self.crawler.stats.inc_value("pushcrawl/auth/logins")
            logger.info("logged in as %s (login %d)", self.auth.user, self.generation)

    async def _get(self, request: Request) -> Response:
        request.meta.update({LOGIN: True, "dont_render": True, "dont_obey_robotstxt": True})
        if self.cookies and not request.meta.get("playwright"):
            add_cookies(request, self.cookies)
        engine = self.crawler.engine
        assert engine is not None  # the session is used by a middleware, so the crawl is running
        return await engine.download_async(request)

    async def _plain_login(self) -> None:
        page = await self._get(Request(self.auth.login_url, dont_filter=True))
        answer = await self._get(login_request(page, self.auth).to_scrapy(callback=None, dont_filter=True))
        await self._verify(answer)

    async def _verify(self, answer: Response) -> None:
        if self.auth.check.url:
            answer = await self._get(Request(self.auth.check.url, dont_filter=True))
        if not logged_in(answer, self.auth):
            raise refused(self.auth, answer.url)

    async def _rendered_login(self) -> None:
        from scrapy_playwright.page import PageMethod

        auth = self.auth
        fill = [PageMethod("fill", selector, value) for selector, value in fill_steps(auth)]
        fill += [PageMethod("click", auth.submit_selector), PageMethod("wait_for_load_state", "load")]
        meta: Meta = {
            "playwright": True,
            "playwright_context": "pushcrawl-login",
            "playwright_include_page": True,
            "playwright_page_methods": fill,
        }
        # the answer is the page after the form was submitted (scrapy-playwright reads it after the methods)
        answer = await self._get(Request(auth.login_url, dont_filter=True, meta=meta))
        page = answer.meta.pop("playwright_page", None)
        if page is not None:
            # the page lives on Playwright's loop, not this one (connectors.render.loop)
            cookies = await in_browser(self.crawler, _cookies_then_close(page))
            self.cookies = {str(c["name"]): str(c["value"]) for c in cookies if "name" in c and "value" in c}
            for value in self.cookies.values():
                secrets.register(value)  # a session cookie is a credential: masked like the password
        await self._verify(answer)


# Any: a Playwright page handed over by scrapy-playwright (untyped there), and its cookies' JSON shape
async def _cookies_then_close(page: Any) -> list[Any]:
    """The cookies of a rendered login page's context, then the page closed (on Playwright's loop)."""
    try:
        return list(await page.context.cookies())
    finally:
        await page.close()
