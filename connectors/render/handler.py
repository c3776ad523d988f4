"""PagePoolHandler: scrapy-playwright's download handler, navigating open tabs again instead of one tab per page.

scrapy-playwright opens a new tab (``context.new_page()``) for every rendered request unless the request
carries an open page. In Chromium a new tab is a new renderer process (its own V8 and Blink set up, a new
target attached over the protocol), and closing it tears that down again: on a small local page that is most
of what a render costs. Here a tab whose page was read is parked (``park``) instead of closed, and the next
rendered request of the same context takes it (``_download_request``): the tab navigates to the new URL in the
renderer it already has. A tab is parked inside the handler, before the next request is let in (a tab parked
later, by a middleware, would be missed by the request that started meanwhile, which then opens a new one).
A tab left parked for PARK_IDLE_S is navigated to about:blank: a page left open goes on running (timers,
animations) and holding its DOM until the next render replaces it.

Bounds: ``max_concurrent`` is this handler's own semaphore over every rendered request (all contexts), held for
the whole render and the parking. A context thus has at most ``max_concurrent`` tabs, rendering or parked.
scrapy-playwright's per-context semaphore is released only when a tab *closes*, so with parked tabs it would
block a request waiting for a new tab while a parked one sits idle (a hang, seen here): it is set above
anything reachable (PLAYWRIGHT_MAX_PAGES_PER_CONTEXT in connectors.render).

What a parked tab never carries over: a page that failed (timeout, crash) is closed, not parked; a tab of an
older context generation is closed, and an older context whose tabs are all parked or closed is closed with
them (``_retire``), so context recycling still bounds memory. Event handlers (script errors) were attached
when the tab was opened and are not attached twice.

Each page is then rendered by connectors.render.direct when its request allows (no interception of the page's
requests), else by scrapy-playwright's own path (``_download_request_with_retry``).

Threads: Playwright runs on a loop of its own (connectors.render.loop, why there). scrapy-playwright hands every
coroutine of its reactor-side methods (``download_request``, ``close``) to ``_maybe_future_from_coro``, made
here to run them on that loop; every other method below runs there too, except the few marked *reactor side*,
which hand their work over the same way (``in_browser``). scrapy-playwright's own threaded loop
(``_PLAYWRIGHT_THREADED_LOOP``, its ``_ThreadedLoopAdapter``) is not used: it is one loop per process that a
closed crawl leaves stopped, so the next crawl of the same process (the CLI's ``crawl --all``, the tests) would
hang on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar

# isort: off
# Scrapy's HTTP/1.1 handler before Playwright (scrapy-playwright imports it after): its tls and contextfactory
# modules make deprecated aliases with inspect.stack(), which costs more the more modules are loaded; after
# Playwright's it added ~0.14 s to the start of every rendering crawl (median of 8, 0.46 against 0.31 s)
import scrapy.core.downloader.handlers.http11  # noqa: F401

# isort: on
from playwright.async_api import Page
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy_playwright.handler import BrowserContextWrapper, ScrapyPlaywrightDownloadHandler

from connectors.render import direct, priority
from connectors.render.loop import BrowserLoop, ReactorStats

logger = logging.getLogger(__name__)

PREFIX = "pushcrawl-"
T = TypeVar("T")
#: seconds a parked tab keeps its page before it is navigated to about:blank. A parked page still runs: its
#: timers, animation frames and CSS animations go on (four tabs parked on a page with an animation loop and a
#: timer cost Chromium ~0.5 s of CPU a second, measured), and it holds its DOM in memory. Leaving the page costs
#: a navigation (~20-30 ms of Chromium per docs page, measured), so a tab taken again within this time (a crawl
#: with renders waiting) keeps its page, and the next render's navigation replaces it as before.
PARK_IDLE_S = 1.0
#: the one handler of each crawl (PagePoolHandler.from_crawler)
_HANDLERS: weakref.WeakKeyDictionary[Crawler, PagePoolHandler] = weakref.WeakKeyDictionary()


def generation_of(context_name: str) -> int:
    """``pushcrawl-7`` → 7 (a context not named by BrowserWatch → -1: never retired by the pool)."""
    tail = context_name[len(PREFIX) :] if context_name.startswith(PREFIX) else ""
    return int(tail) if tail.isdigit() else -1


class PagePoolHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]  # scrapy-playwright ships no type information (an untyped base)
    #: the crawler's stats, then (from the first ``in_browser``) the same applied on the reactor's loop
    stats: StatsCollector | ReactorStats

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.browser_loop = BrowserLoop()
        self.closed = False
        self.parked: dict[str, list[Page]] = {}
        self.max_tabs = max(1, crawler.settings.getint("PUSHCRAWL_RENDER_MAX_CONCURRENT", 4))
        self.rendering = asyncio.Semaphore(self.max_tabs)
        self.newest = -1  # the newest context generation a request asked for
        self.restarting = False
        #: Playwright's start (driver, then browser), a task on Playwright's loop made by the first that needs it
        self.launching: asyncio.Task[None] | None = None
        #: requests inside each context (a context may have no tab yet while one is being opened in it)
        self.using: Counter[str] = Counter()
        #: the resource types render.block fails (connectors.render.direct.block)
        self.blocked: list[str] = list(crawler.settings.getlist("PUSHCRAWL_RENDER_BLOCK"))
        #: (User-Agent, Accept-Language) each context was made with (direct.identity)
        self.identities: dict[str, tuple[str, str]] = {}
        #: tabs scrapy-playwright's path left a route on, and tabs with their blocking session
        self.routed: weakref.WeakSet[Page] = weakref.WeakSet()
        self.blockers: weakref.WeakKeyDictionary[Page, object] = weakref.WeakKeyDictionary()
        self.nice = crawler.settings.getint("PUSHCRAWL_RENDER_NICE", 0)
        #: parked tabs' timers to leave their page (PARK_IDLE_S), and tabs leaving it
        self.idle: dict[Page, asyncio.TimerHandle] = {}
        self.blanking: dict[Page, asyncio.Task[None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PagePoolHandler:
        """One handler for both schemes. Scrapy builds one per scheme DOWNLOAD_HANDLERS names (http, https):
        that was two Playwright drivers (each started on engine_started), two browsers, two loops, while the
        memory bound, crash retries and the rendered login only ever looked at the http one."""
        handler = _HANDLERS.get(crawler)
        if handler is None:
            handler = _HANDLERS[crawler] = cls(crawler)
        return handler

    # ---- the reactor side ----
    # Any: a coroutine's send and throw types (only its result type matters)
    def in_browser(self, coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        """*Reactor side*: run ``coro`` on Playwright's loop, answered on the caller's."""
        if not isinstance(self.stats, ReactorStats):
            # first called on the reactor's loop (engine_started): from now on this handler's counters, most of
            # them written on Playwright's loop, are applied on the reactor's
            self.stats = ReactorStats(self.stats, asyncio.get_running_loop())
        return self.browser_loop.run(coro)

    # Any: scrapy-playwright's hook, untyped there
    def _maybe_future_from_coro(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        return self.in_browser(coro)

    async def _maybe_launch_in_thread(self) -> None:
        """*Reactor side*, on engine_started, which the engine awaits before its first request: Playwright's
        driver (a Node process, ~0.5 s of CPU and up to a second of wall) starts beside the crawl's first plain
        fetches instead of before them. The first rendered request waits for it (``_download_request``)."""
        started = self.in_browser(self._launched())
        started.add_done_callback(lambda f: f.cancelled() or f.exception())  # a failure is said by _close

    async def discard(self, page: Page | None) -> None:
        """*Reactor side*: close a tab that failed (RenderMiddleware, through BrowserWatch) and what older context
        generations leave idle."""
        await self.in_browser(self._discard(page))

    async def restart_browser(self) -> None:
        """*Reactor side*: the memory bound (BrowserWatch); see ``_restart_browser``."""
        await self.in_browser(self._restart_browser())

    async def close(self) -> None:
        """*Reactor side*: scrapy-playwright's close runs ``_close`` on Playwright's loop; then the loop ends.
        Called once per scheme (``from_crawler``): the first call closes."""
        if self.closed:
            return
        self.closed = True
        try:
            await super().close()
        finally:
            await self.browser_loop.stop()

    # ---- Playwright's loop ----
    async def _launched(self) -> None:
        if self.launching is None:
            self.launching = asyncio.ensure_future(self._launch())
        await asyncio.shield(self.launching)  # a cancelled render must not cancel the shared launch

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        await self._launched()
        async with self.rendering:
            name = str(request.meta.setdefault("playwright_context", "default"))
            if 0 <= generation_of(name) < self.newest:
                # its generation ended while it waited: the newest context takes it, not an old one being closed
                # (a tab opened in a closing context failed like a crash; a re-created one was never closed)
                name = f"{PREFIX}{self.newest}"
                request.meta["playwright_context"] = name
            self.newest = max(self.newest, generation_of(name))
            await self._retire(self.newest)
            if not request.meta.get("playwright_page"):
                page = await self._take(name)
                if page is not None:
                    request.meta["playwright_page"] = page
                    # attached when the tab was opened: a second copy would count every script error twice
                    request.meta.pop("playwright_page_event_handlers", None)
                    self.stats.inc_value("pushcrawl/render/tabs_reused")
            self.using[name] += 1
            try:
                response: Response = await super()._download_request(request, spider)
            finally:
                self.using[name] -= 1
            page = request.meta.get("playwright_page")
            if page is not None and generation_of(name) >= 0:
                # parked before the next request is let in, so it finds this tab instead of opening one
                del request.meta["playwright_page"]
                await self.park(page, name)
            return response

    async def _download_request_with_retry(self, request: Request, spider: Spider) -> Response:
        """One render (called by scrapy-playwright's ``_download_request``): direct when the request allows."""
        name = str(request.meta["playwright_context"])
        if name not in self.context_wrappers:
            # made from this request: its identity becomes the context's, sent without interception
            request.meta["playwright_context_kwargs"] = direct.context_kwargs(request)
        known = self.identities.get(name) if name in self.context_wrappers else None
        if direct.eligible(request, known) and not request.meta.get("pushcrawl_render_intercept"):
            try:
                return await self._direct(request, spider)
            except direct.Downloading:
                request.meta["pushcrawl_render_intercept"] = True
        self.stats.inc_value("pushcrawl/render/intercepted")
        try:
            response: Response = await super()._download_request_with_retry(request, spider)
        finally:
            page = request.meta.get("playwright_page")
            if page is not None:
                self.routed.add(page)
        return response

    async def _direct(self, request: Request, spider: Spider) -> Response:
        page = request.meta.get("playwright_page")
        if not isinstance(page, Page) or page.is_closed():
            page = await self._create_page(request=request, spider=spider)
            # scrapy-playwright's counters of every request and response of the page: each one a message from
            # the driver to this process
            page.remove_listener("request", self._increment_request_stats)
            page.remove_listener("response", self._increment_response_stats)
        elif page in self.routed:
            await direct.quietly_unroute(page)
            self.routed.discard(page)
        if self.blocked and page not in self.blockers:
            self.blockers[page] = await direct.block(page, self.blocked, self._blocked_one)
        return await direct.render(request, spider, page, self._apply_page_methods, self._dom_read_fallback)

    def _dom_read_fallback(self) -> None:
        self.stats.inc_value("pushcrawl/render/dom_read_fallbacks")

    def _blocked_one(self) -> None:
        self.stats.inc_value("playwright/request_count/aborted")

    async def _maybe_launch_browser(self) -> None:
        """scrapy-playwright's launch (the first context, and again after a crash or a memory restart), then the
        new browser's CPU priority lowered (connectors.render.priority)."""
        before = getattr(self, "browser", None)
        await super()._maybe_launch_browser()
        if self.nice and getattr(self, "browser", None) is not before:
            lowered = await asyncio.to_thread(priority.lower_browser, self.nice)
            if not lowered:
                logger.debug("the browser's CPU priority was left as it is (no Chromium process found)")

    async def _create_browser_context(
        # Any: Playwright's new_context keyword arguments
        self,
        name: str,
        context_kwargs: dict[str, Any] | None,
        spider: Spider | None = None,
    ) -> BrowserContextWrapper:
        wrapper = await super()._create_browser_context(name, context_kwargs, spider)
        kwargs = context_kwargs or {}
        language = dict(kwargs.get("extra_http_headers") or {}).get("Accept-Language", "")
        self.identities[name] = (str(kwargs.get("user_agent") or ""), str(language))
        return wrapper

    async def _take(self, name: str) -> Page | None:
        tabs = self.parked.get(name, [])
        while tabs:
            page = tabs.pop()
            timer = self.idle.pop(page, None)
            if timer is not None:
                timer.cancel()
            leaving = self.blanking.get(page)
            if leaving is not None:  # on its way to about:blank: the render's navigation comes after
                with contextlib.suppress(Exception):
                    await asyncio.shield(leaving)
            if not page.is_closed():
                return page
        return None

    def _idle(self, page: Page) -> None:
        """A tab parked for PARK_IDLE_S: its page is left for about:blank (the tab stays parked)."""
        self.idle.pop(page, None)
        if not page.is_closed() and any(page in tabs for tabs in self.parked.values()):
            self.blanking[page] = asyncio.ensure_future(self._blank(page))

    async def _blank(self, page: Page) -> None:
        try:
            await page.goto("about:blank")
            self.stats.inc_value("pushcrawl/render/tabs_blanked")
        except Exception:  # closed or crashed meanwhile: not a tab to keep
            for tabs in self.parked.values():
                if page in tabs:
                    tabs.remove(page)
            with contextlib.suppress(Exception):
                await page.close()
        finally:
            self.blanking.pop(page, None)

    async def park(self, page: Page, name: str) -> bool:
        """Keep a finished tab for the next request of its context; False (and closed) when it cannot be."""
        wrapper = self.context_wrappers.get(name)
        parked = self.parked.setdefault(name, [])
        if (
            page.is_closed()
            or wrapper is None
            or wrapper.context is not page.context
            or generation_of(name) < self.newest
            or len(parked) >= self.max_tabs
        ):
            with contextlib.suppress(Exception):
                await page.close()
            # the last tab of an old context: close the context now, not when the next request comes — that
            # request may be the one waiting for a context place (PLAYWRIGHT_MAX_CONTEXTS) this one holds
            await self._retire(self.newest)
            return False
        parked.append(page)
        self.idle[page] = asyncio.get_running_loop().call_later(PARK_IDLE_S, self._idle, page)
        return True

    async def _retire(self, current: int) -> None:
        """Close the parked tabs of context generations older than ``current``, and such a context itself once
        it has no tab left that is still rendering."""
        if current < 0:
            return
        for name in [n for n in self.parked if -1 < generation_of(n) < current]:
            # pop(name, []): another request's _retire may have taken the same list while this one awaited a
            # page.close() (a KeyError here failed that request's page: seen under load in the full suite)
            for page in self.parked.pop(name, []):
                with contextlib.suppress(Exception):
                    await page.close()
        for name, wrapper in list(self.context_wrappers.items()):
            if -1 < generation_of(name) < current and not wrapper.context.pages and not self.using[name]:
                with contextlib.suppress(Exception):
                    await wrapper.context.close()

    async def _discard(self, page: Page | None) -> None:
        if page is not None:
            with contextlib.suppress(Exception):  # the browser may be gone already (crash, restart)
                await page.close()
        await self._retire(self.newest)

    async def _restart_browser(self) -> None:
        """Close the browser once the pages rendering in it are done (scrapy-playwright launches a new one for
        the next request). Every place of the semaphore is taken first, so no page starts in a browser about to
        close: the memory bound costs a relaunch, not a lost render and its retry."""
        if self.restarting:
            return
        self.restarting = True
        held = 0
        try:
            for _ in range(self.max_tabs):
                await self.rendering.acquire()
                held += 1
            self.parked.clear()  # closed with the browser
            browser = getattr(self, "browser", None)
            if browser is not None:
                await browser.close()
                # scrapy-playwright forgets the browser in a "disconnected" callback run as a task: wait for it,
                # so the next request launches a new browser instead of opening a tab in the closed one
                for _ in range(100):
                    if getattr(self, "browser", None) is not browser:
                        break
                    await asyncio.sleep(0.02)
        finally:
            for _ in range(held):
                self.rendering.release()
            self.restarting = False

    async def _close(self) -> None:
        try:
            if self.launching is not None:  # not started: nothing to close (and nothing to start for it)
                await asyncio.shield(self.launching)
        except Exception as exc:  # said here too: a crawl without a rendered page never awaited it
            logger.warning("Playwright's driver did not start: %s", exc)
        self.parked.clear()  # closed with their contexts
        for timer in self.idle.values():
            timer.cancel()
        self.idle.clear()
        for leaving in list(self.blanking.values()):  # a tab on its way to about:blank closes with its browser
            leaving.cancel()
        await super()._close()
