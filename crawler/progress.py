"""Progress of a running crawl (a Scrapy extension that replaces LogStats): a display, nothing more.

On a terminal: one live line on stderr, redrawn every second — pages/s, documents, pushed, unchanged,
requests in flight, batches uploading, errors. Log records clear the line before they print, so the two do
not garble each other.
Otherwise (cron, systemd, the scheduler's log files): the same figures as a log line every
``PUSHCRAWL_PROGRESS_INTERVAL`` seconds (default 15). The closing summary is crawler.report's.

It only reads: the errors it shows are counted by crawler.completeness (item errors, listing failures) and
the push sink (failed batches), which is where the end of the run learns of them too.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from scrapy import Spider, signals
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from twisted.internet import task

from crawler import defaults
from crawler.report import counts_from_stats

logger = logging.getLogger(__name__)

LIVE_INTERVAL_S = 1.0


class _ClearLine(logging.Filter):
    """Erase the live line before a log record is written to the same terminal."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True


class Progress:
    def __init__(self, crawler: Crawler, interval: float, out: TextIO, live: bool) -> None:
        self.crawler = crawler
        self.interval = interval
        self.out = out
        self.live = live
        self.started = time.monotonic()
        self.last_pages = 0
        self.last_time = self.started
        self.drawn = False
        self.loop: task.LoopingCall | None = None
        self._filter = _ClearLine(self)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("PUSHCRAWL_PROGRESS_INTERVAL", defaults.PROGRESS_INTERVAL_S)
        live = crawler.settings.getbool("PUSHCRAWL_PROGRESS_LIVE", True) and sys.stderr.isatty()
        ext = cls(crawler, interval, sys.stderr, live)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Spider) -> None:
        self.started = self.last_time = time.monotonic()
        if self.live:
            for handler in logging.getLogger().handlers:
                handler.addFilter(self._filter)
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(LIVE_INTERVAL_S if self.live else self.interval, now=False)

    def closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.clear()
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._filter)

    def line(self) -> str:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        counts, _ = counts_from_stats(stats)
        now = time.monotonic()
        pages = counts["fetched"]
        rate = (pages - self.last_pages) / max(now - self.last_time, 1e-6)
        self.last_pages, self.last_time = pages, now
        engine = self.crawler.engine
        in_flight = len(engine.downloader.active) if engine is not None and engine.downloader else 0
        return (
            f"{pages} pages ({rate:.1f}/s) · {counts['documents']} documents · {counts['pushed']} pushed · "
            f"{counts['unchanged']} unchanged · {in_flight} in flight · {self._batches_in_flight(engine)} batches "
            f"uploading · {counts['errors']} errors · {now - self.started:.0f}s"
        )

    @staticmethod
    def _batches_in_flight(engine: ExecutionEngine | None) -> int:
        # the push pipeline keeps its uploads in ``inflight``; read it duck-typed, the extension must not break
        # if a pipeline changes shape
        itemproc = getattr(getattr(engine, "scraper", None), "itemproc", None)
        for pipeline in getattr(itemproc, "middlewares", ()):
            inflight = getattr(pipeline, "inflight", None)
            if isinstance(inflight, set):
                return len(inflight)
        return 0

    def tick(self) -> None:
        text = self.line()
        if self.live:
            self.out.write("\r\x1b[K" + text)
            self.out.flush()
            self.drawn = True
        else:
            logger.info("progress: %s", text)

    def clear(self) -> None:
        if self.drawn:
            self.out.write("\r\x1b[K")
            self.out.flush()
            self.drawn = False
