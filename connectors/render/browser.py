"""BrowserWatch: the request meta that sends a page through scrapy-playwright, and the bounds on the browser.

Contexts: pages are opened in the context ``pushcrawl-<generation>``; after ``max_pages_per_context`` pages the
generation moves on and the old context is closed once its last page is done (tabs themselves are reused by
connectors.render.handler). The browser: after a page, at most once per MEMORY_EVERY_S (MEMORY_FAR_EVERY_S
while far under the bound), the memory of Playwright's driver and every Chromium process is read with psutil
in a thread; above
``max_browser_mb`` the browser is closed once its pages in flight are done (PagePoolHandler.restart_browser), and
scrapy-playwright launches a new one for the next request (PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER). A page
still rendering in a browser that went away (a crash) is retried once.

This class runs on the reactor's loop (RenderMiddleware calls it), except ``_script_error``, a page event handler
run on Playwright's loop: what it does to a tab or the browser goes through PagePoolHandler's reactor-side
methods (``discard``, ``restart_browser``), which run it on Playwright's loop (connectors.render.loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from typing import Any

import psutil
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from connectors.render.loop import playwright_handler
from connectors.render.options import RENDER_SLOT, RenderOptions
from crawler.jsontypes import JSONObject
from crawler.scrapytypes import Meta

logger = logging.getLogger(__name__)

META = "pushcrawl_render"
#: the browser's memory is measured at most this often (seconds): a bound of hundreds of MB is not passed
#: between two measures a second apart, and each measure costs tens of ms of CPU
MEMORY_EVERY_S = 1.0
#: ... and this often while the last measure was under FAR of ``max_browser_mb``: a browser does not grow by a
#: third in a few seconds of rendering, and a measure is CPU the crawl's critical path shares (~70 ms of the
#: kernel's time reading smaps_rollup for a browser with four tabs, on a quiet machine). Under half (the bound
#: before), the default bound (1,024 MB) and four tabs on documentation pages (500-730 MB) had it measured every
#: second: ~1.4 s of CPU in a 25 s crawl
MEMORY_FAR_EVERY_S = 5.0
FAR = 0.75


def _browser_processes() -> list[psutil.Process]:
    """Playwright's driver and its descendants (every Chromium process): this process's children whose command
    line runs from Playwright's package, and everything under them. Not every descendant: the crawl's local
    Push API runs in a child process too (crawler.localproc), and its index's memory is not the browser's."""
    out: list[psutil.Process] = []
    for child in psutil.Process(os.getpid()).children():
        try:
            if any("playwright" in part for part in child.cmdline()[:2]):
                out.append(child)
                out.extend(child.children(recursive=True))
        except psutil.Error:  # exited meanwhile
            continue
    return out


def browser_rss_mb() -> float:
    """Proportional memory (PSS) of the browser and its driver, in MiB.

    PSS, not RSS: Chromium's processes share most of their pages, and a sum of RSS counts them once per process
    (1.4 GB "used" by a browser with three tabs)."""
    total = 0
    for proc in _browser_processes():
        try:
            info = proc.memory_full_info()
        except psutil.Error:  # exited meanwhile, or /proc/PID/smaps not readable
            continue
        total += getattr(info, "pss", info.rss)
    return total / 2**20


class BrowserWatch:
    def __init__(self, crawler: Crawler, options: RenderOptions) -> None:
        self.crawler = crawler
        self.options = options
        self.generation = 0
        self.started_in_generation = 0
        self.open: Counter[int] = Counter()
        self.peak_mb = 0.0
        #: the generation the last deliberate restart (memory bound) started: older pages failing were not a crash
        self.restarted_at = 0
        #: the generation that began after the last crash: pages of older ones report a crash already counted
        self.crashed_at = 0
        self._retries_owned = False
        self._measured_at = -MEMORY_EVERY_S
        self._measure_every = MEMORY_EVERY_S

    # ---- the request side ----
    def own_crash_retries(self) -> None:
        """Make a page whose browser died reach RenderMiddleware.process_exception (retried once, counted).

        scrapy-playwright retries such a page by itself, up to 3 times and logged at DEBUG only
        (``TargetClosedError``, ``Config.target_closed_max_retries``, no setting for it), so a crash went
        uncounted and a page that kills the browser was loaded four times. Its config is set to 0 once the
        handler exists."""
        if self._retries_owned:
            return
        config = getattr(self._handler(), "config", None)
        if config is not None and hasattr(config, "target_closed_max_retries"):
            config.target_closed_max_retries = 0
            self._retries_owned = True

    def crashed(self) -> None:
        """The browser died under a page: count it once; later pages go to a new context of the new browser."""
        self.crawler.stats.inc_value("pushcrawl/render/browser_crashes")
        self.generation += 1
        self.crashed_at = self.generation
        self.started_in_generation = 0

    def meta_for(self, request: Request, why: str) -> Meta:
        self.own_crash_retries()
        if self.started_in_generation >= self.options.max_pages_per_context:
            self.generation += 1
            self.started_in_generation = 0
            self.crawler.stats.inc_value("pushcrawl/render/contexts_recycled")
        self.started_in_generation += 1
        self.open[self.generation] += 1
        timeout_ms = self.options.timeout_s * 1000
        wait = self.options.wait_for
        goto: JSONObject = {"timeout": timeout_ms, "wait_until": "networkidle" if wait == "networkidle" else "load"}
        meta: Meta = {
            META: why,
            "playwright": True,
            "playwright_context": f"pushcrawl-{self.generation}",
            "pushcrawl_render_generation": self.generation,
            "playwright_include_page": True,  # so this module closes pages and recycles their context
            "playwright_page_goto_kwargs": goto,
            "playwright_page_event_handlers": {"pageerror": self._script_error},
            "download_slot": RENDER_SLOT,
        }
        if wait not in ("load", "networkidle"):
            from scrapy_playwright.page import PageMethod

            # attached, not visible: a marker element may be empty
            meta["playwright_page_methods"] = [
                PageMethod("wait_for_selector", wait, state="attached", timeout=timeout_ms)
            ]
        return meta

    def _script_error(self, error: object) -> None:
        # on Playwright's loop: counted through the handler's stats (connectors.render.loop.ReactorStats), so the
        # count is applied on the reactor's; logging is thread-safe. The page is still rendered and indexed: a
        # script error is counted, not fatal
        stats = getattr(self._handler(), "stats", None) or self.crawler.stats
        stats.inc_value("pushcrawl/render/script_errors")
        logger.info("a script threw while rendering: %s", str(error)[:200])

    # ---- the response side ----
    async def page_done(self, request: Request, response: Response) -> None:
        await self._release(request)

    async def page_failed(self, request: Request) -> None:
        await self._release(request)

    async def _release(self, request: Request) -> None:
        page = request.meta.pop("playwright_page", None)
        generation = int(request.meta.get("pushcrawl_render_generation", self.generation))
        self.open[generation] -= 1
        handler = self._handler()
        if self.open[generation] <= 0 and generation < self.generation:
            del self.open[generation]
        if handler is not None and (page is not None or generation < self.generation):
            # a tab that rendered fine was parked by the handler (connectors.render.handler) and is not here; a
            # failed one is closed. PagePoolHandler owns the contexts: it knows which one a request waiting for a
            # tab will use, and closes the older ones left idle
            with contextlib.suppress(Exception):
                await handler.discard(page)
        await self._check_memory()

    async def _check_memory(self) -> None:
        # reading PSS walks every mapping of every Chromium process (~3 ms of CPU each, ~50 ms for a browser
        # with a dozen processes, far longer under load): measured at most once per MEMORY_EVERY_S, and in a
        # thread so the reactor keeps serving plain fetches meanwhile
        now = time.monotonic()
        if now - self._measured_at < self._measure_every:
            return
        self._measured_at = now
        used = await asyncio.to_thread(browser_rss_mb)
        self._measure_every = MEMORY_EVERY_S if used > self.options.max_browser_mb * FAR else MEMORY_FAR_EVERY_S
        self.peak_mb = max(self.peak_mb, used)
        self.crawler.stats.max_value("pushcrawl/render/browser_peak_mb", int(self.peak_mb))
        if used <= self.options.max_browser_mb:
            return
        handler = self._handler()
        browser = getattr(handler, "browser", None) if handler is not None else None
        if browser is None:
            return
        logger.warning(
            "the browser uses %.0f MB (> render.max_browser_mb %s): restarting it", used, self.options.max_browser_mb
        )
        self.crawler.stats.inc_value("pushcrawl/render/browser_restarts")
        self.generation += 1
        self.restarted_at = self.generation
        self.started_in_generation = 0
        try:
            await handler.restart_browser()  # lets the pages in flight finish first, on Playwright's loop
        except Exception as exc:
            logger.warning("closing the browser: %s", exc)

    # Any: connectors.render.handler.PagePoolHandler (a subclass of an untyped third-party class)
    def _handler(self) -> Any:
        return playwright_handler(self.crawler)
