"""scrapy-playwright's private names that connectors.render.handler builds on are still there and still used as
it expects (pyproject.toml pins the release; a new one fails here, naming what moved, before a crawl hangs or
runs Playwright on the wrong loop). Also BrowserLoop and ReactorStats (connectors.render.loop) on their own."""

from __future__ import annotations

import asyncio
import inspect
import threading

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from connectors.render.loop import BrowserLoop, ReactorStats

pytest.importorskip("scrapy_playwright")

#: what PagePoolHandler overrides or calls, by name
USED = [
    "_maybe_future_from_coro",
    "_maybe_launch_in_thread",
    "_launch",
    "_close",
    "_download_request",
    "_download_request_with_retry",
    "_create_page",
    "_create_browser_context",
    "_apply_page_methods",
    "_increment_request_stats",
    "_increment_response_stats",
    "_browser_disconnected_callback",
    "_maybe_launch_browser",
]


def test_the_private_hooks_the_handler_overrides_exist_and_carry_every_coroutine() -> None:
    from scrapy_playwright import handler

    base = handler.ScrapyPlaywrightDownloadHandler
    missing = [name for name in USED if not callable(getattr(base, name, None))]
    assert not missing, f"scrapy-playwright no longer has {missing}: see connectors/render/handler.py"
    # the coroutine (async) API: download_request and close await _maybe_future_from_coro, which the handler
    # makes run on Playwright's loop; the Deferred API would use _deferred_from_coro instead
    assert handler._SCRAPY_ASYNC_API, "scrapy-playwright takes the Deferred path: _maybe_future_from_coro unused"
    for method in (base.download_request, base.close, base._maybe_launch_in_thread):
        assert "self._maybe_future_from_coro(" in inspect.getsource(method), method.__qualname__
    # engine_started starts Playwright through the handler's own _maybe_launch_in_thread (bound at __init__)
    assert "signals.engine_started" in inspect.getsource(base.__init__)
    assert "_maybe_launch_in_thread" in inspect.getsource(base.__init__)
    assert hasattr(handler.Config, "__dataclass_fields__") and "target_closed_max_retries" in (
        handler.Config.__dataclass_fields__
    ), "BrowserWatch.own_crash_retries sets Config.target_closed_max_retries"


def test_a_coroutine_runs_on_the_loops_thread_and_answers_on_the_callers() -> None:
    browser = BrowserLoop()
    seen: dict[str, object] = {}

    async def on_browser() -> str:
        seen["thread"] = threading.current_thread()
        seen["loop"] = asyncio.get_running_loop()
        await asyncio.sleep(0)
        return "done"

    async def caller() -> str:
        answer = await browser.run(on_browser())
        seen["caller_loop"] = asyncio.get_running_loop()
        await browser.stop()
        return answer

    assert asyncio.run(caller()) == "done"
    assert seen["thread"] is not threading.current_thread()
    assert seen["loop"] is not seen["caller_loop"]
    assert not seen["thread"].is_alive()  # type: ignore[attr-defined]  # a Thread, stored as object
    assert browser.loop is None


def test_cancelling_the_callers_future_cancels_the_coroutine_on_the_loop() -> None:
    browser = BrowserLoop()
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def caller() -> None:
        future = browser.run(forever())
        await asyncio.sleep(0.05)
        future.cancel()
        with pytest.raises(asyncio.CancelledError):
            await future
        await asyncio.to_thread(cancelled.wait, 5)
        await browser.stop()

    asyncio.run(caller())
    assert cancelled.is_set()


class RecordingStats(MemoryStatsCollector):
    """Scrapy's stats, recording the thread of each set_value."""

    applied: list[threading.Thread]

    def set_value(self, key: str, value: object, spider: object = None) -> None:
        self.applied.append(threading.current_thread())
        super().set_value(key, value)


def test_stats_written_on_the_loop_are_applied_on_the_reactors_thread_in_order() -> None:
    stats = RecordingStats(get_crawler())
    stats.applied = applied = []
    browser = BrowserLoop()

    async def caller() -> None:
        proxy = ReactorStats(stats, asyncio.get_running_loop())

        async def count() -> None:
            for _ in range(1000):
                proxy.inc_value("n")
            proxy.set_value("last", "browser")
            proxy.max_value("peak", 3)
            proxy.max_value("peak", 2)

        await browser.run(count())
        proxy.inc_value("n")  # on the reactor's own thread: applied at once
        await asyncio.sleep(0.05)
        await browser.stop()

    asyncio.run(caller())
    assert stats.get_value("n") == 1001
    assert stats.get_value("peak") == 3
    assert applied == [threading.current_thread()]


def test_a_sites_own_downloader_middlewares_and_handlers_keep_rendering_on() -> None:
    """A site's DOWNLOADER_MIDDLEWARES (sites.SITE.scrapy, -s: set at cmdline priority before the spider's
    from_crawler) used to win over the render middleware apply_settings adds at spider priority: that site
    crawled unrendered, indexing script-built shells. Now the render entries are added to the site's own."""
    from types import SimpleNamespace

    from scrapy import Spider
    from scrapy.crawler import Crawler

    from connectors.render import HANDLER, MIDDLEWARE, RenderOptions, apply_settings

    crawler = Crawler(Spider, {})  # settings writable, as in a spider's from_crawler
    mine = {"DOWNLOADER_MIDDLEWARES": {"my.Middleware": 500}, "DOWNLOAD_HANDLERS": {"s3": None}}
    for key, value in {**mine, "CONCURRENT_REQUESTS": 3}.items():
        crawler.settings.set(key, value, priority="cmdline")
    render = RenderOptions(mode="always", max_concurrent=2, executable_path="sh")  # any executable: not launched
    apply_settings(crawler, SimpleNamespace(render=render))
    assert crawler.settings.getdict("DOWNLOADER_MIDDLEWARES") == {"my.Middleware": 500, MIDDLEWARE: 100}
    assert crawler.settings.getdict("DOWNLOAD_HANDLERS") == {"s3": None, "http": HANDLER, "https": HANDLER}
    assert crawler.settings.getint("CONCURRENT_REQUESTS") == 3 + 2
