"""BrowserLoop: the asyncio loop in a thread of its own where Playwright and every Playwright object live.

Why a thread: Playwright's Python client talks to its driver (a Node process) over a pipe, and a render is
dozens of round trips (navigate, wait, read the DOM, close a route...). On the crawl's own loop (Scrapy's
asyncio reactor) each message from the driver waits for the next loop iteration, and while plain pages are
parsed and extracted an iteration is long: with ``render: {mode: auto}`` not one render finished before the
plain crawl was over, while Chromium idled on the other core. On a loop of its own, Playwright answers the
driver while the reactor parses; the two share the GIL, but parsing (lxml) and Chromium's own work release it.

The rule this module exists for: a Playwright object, and an asyncio primitive the download handler uses
(its semaphore, locks, the launch task), is touched only on this loop. The reactor side hands a coroutine to
``run`` and awaits the answer on its own loop; nothing else crosses.

``ReactorStats``: the crawl's stats, written from this thread through the reactor's loop. Scrapy's stats are a
plain dict whose ``inc_value`` reads then writes: two threads counting the same key could lose a count, and a
key added while the reactor iterates the stats would break that iteration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: how long closing waits for the loop's thread once Playwright is closed (it only cancels what is left)
JOIN_S = 10.0


# Any: connectors.render.handler.PagePoolHandler (not imported here: it imports this module), or None
def playwright_handler(crawler: Crawler) -> Any:
    """The crawl's download handler for http(s), once the engine exists."""
    engine = getattr(crawler, "engine", None)
    handlers = getattr(getattr(getattr(engine, "downloader", None), "handlers", None), "_handlers", {})
    return handlers.get("http") or handlers.get("https")


# Any: a coroutine's send and throw types (only its result type matters here)
def in_browser(crawler: Crawler, coro: Coroutine[Any, Any, T]) -> Awaitable[T]:
    """From the reactor: ``coro`` (which uses a Playwright object) run on Playwright's loop; as it is when the
    handler has no loop of its own."""
    run = getattr(playwright_handler(crawler), "in_browser", None)
    return run(coro) if run is not None else coro


class BrowserLoop:
    def __init__(self, name: str = "pushcrawl-playwright") -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> asyncio.AbstractEventLoop:
        """The loop, started on first use (not when the handler is built: a crawl that renders nothing never
        starts it, and nothing runs at import)."""
        with self._lock:
            if self.loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=self._serve, args=(loop,), name=self.name, daemon=True)
                self.loop, self.thread = loop, thread
                thread.start()
            return self.loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            # what Playwright left running (an event task of a closed tab): cancelled and awaited, as asyncio.run
            left = asyncio.all_tasks(loop)
            for task in left:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def on_loop(self) -> bool:
        return self.thread is not None and threading.current_thread() is self.thread

    # Any: a coroutine's send and throw types (only its result type matters here)
    def run(self, coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        """Run ``coro`` on this loop; the answer is a future of the *calling* loop (the reactor's). Cancelling
        it cancels the coroutine, as it would be cancelled on one loop."""
        future = asyncio.run_coroutine_threadsafe(coro, self.start())
        return asyncio.wrap_future(future)

    async def stop(self) -> None:
        """Stop the loop and wait for its thread (in a worker thread: the reactor keeps running meanwhile)."""
        with self._lock:
            loop, thread = self.loop, self.thread
            self.loop = self.thread = None
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # closed already: its thread ended
            loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, JOIN_S)
        if thread.is_alive():
            logger.warning("Playwright's loop did not stop within %ss; left to end with the process", JOIN_S)


class ReactorStats:
    """The crawl's stats for code on Playwright's loop: writes are applied on the reactor's loop, in order;
    reads are direct (a dict lookup is atomic under the GIL, and a count read late is only a report)."""

    def __init__(self, stats: StatsCollector, reactor: asyncio.AbstractEventLoop) -> None:
        self.stats = stats
        self.reactor = reactor
        self.reactor_thread = threading.current_thread()

    def _apply(self, name: str, *args: object) -> None:
        method = getattr(self.stats, name)
        if threading.current_thread() is self.reactor_thread:
            method(*args)
            return
        with contextlib.suppress(RuntimeError):  # the reactor's loop closed: the crawl, and its report, are over
            self.reactor.call_soon_threadsafe(method, *args)

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self._apply("inc_value", key, count, start)

    def set_value(self, key: str, value: object) -> None:
        self._apply("set_value", key, value)

    def max_value(self, key: str, value: object) -> None:
        self._apply("max_value", key, value)

    def min_value(self, key: str, value: object) -> None:
        self._apply("min_value", key, value)

    def get_value(self, key: str, default: object = None) -> object:
        return self.stats.get_value(key, default)
