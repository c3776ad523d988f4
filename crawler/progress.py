"""Progress of a running crawl (a Scrapy extension that replaces LogStats): a display, nothing more.

What a person sees, by the run's verbosity (crawler.runlog) and where stderr goes:
- a terminal, normal verbosity: one live line drawn by tqdm — pages fetched (of the total when the connector
  knows it: sitemaps count their URLs into ``pushcrawl/expected``), documents queued for the index, documents
  acknowledged by it, unchanged, errors, rate and ETA. tqdm does the rate smoothing, ETA and terminal width.
- not a terminal, or ``CI`` set (cron, systemd, CI logs): the same figures as a plain line every
  ``PUSHCRAWL_PROGRESS_INTERVAL`` seconds (default 15), no carriage returns.
- quiet: nothing on the terminal. Every mode also writes the plain line to the run's log file.

It only reads: the errors it shows are counted by crawler.completeness (item errors, listing failures) and
the push sink (failed batches), which is where the end of the run learns of them too.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import NoReturn, TextIO

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from tqdm import tqdm
from twisted.internet import task

from crawler import defaults
from crawler.report import counts_from_stats

logger = logging.getLogger(__name__)

LIVE_INTERVAL_S = 1.0
# tqdm line formats; tqdm appends the postfix (our counts) after ", "
_WITH_TOTAL = "{desc}: {n_fmt}/{total_fmt} pages {percentage:3.0f}% |{bar:10}| {rate_fmt} · ETA {remaining}{postfix}"
_NO_TOTAL = "{desc}: {n_fmt} pages · {rate_fmt} · {elapsed}{postfix}"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


class _ClearLine(logging.Filter):
    """Erase the live line before a log record is written to the same terminal; the next tick redraws it."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True


class Progress:
    def __init__(self, crawler: Crawler, interval: float, out: TextIO, live: bool, echo: bool) -> None:
        self.crawler = crawler
        self.interval = interval
        self.out = out
        self.live = live  # a tqdm line on a terminal
        self.echo = echo  # plain lines on stderr (not a terminal, normal verbosity)
        self.started = time.monotonic()
        self.last_log = self.started
        self.bar: tqdm[NoReturn] | None = None  # a manual bar (no iterable), as typeshed types it
        self.loop: task.LoopingCall | None = None
        self._filter = _ClearLine(self)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("PUSHCRAWL_PROGRESS_INTERVAL", defaults.PROGRESS_INTERVAL_S)
        verbosity = crawler.settings.get("PUSHCRAWL_VERBOSITY", "normal")
        terminal = sys.stderr.isatty() and not _in_ci()
        live = crawler.settings.getbool("PUSHCRAWL_PROGRESS_LIVE", True) and terminal and verbosity == "normal"
        echo = verbosity == "normal" and not live
        ext = cls(crawler, interval, sys.stderr, live, echo)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Spider) -> None:
        self.started = self.last_log = time.monotonic()
        if self.live:
            self.bar = tqdm(
                total=None,
                unit=" pages",
                file=self.out,
                # a terminal that reports no size (some PTYs) makes tqdm draw nothing (0 columns, 0 rows)
                dynamic_ncols=_width(self.out) > 0,
                ncols=None if _width(self.out) > 0 else 120,
                nrows=None if _width(self.out) > 0 else 24,
                leave=False,
                desc=str(getattr(spider, "site", "") or getattr(spider, "name", "") or "crawl"),
                bar_format=_NO_TOTAL,
            )
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) is self.out:
                    handler.addFilter(self._filter)
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(LIVE_INTERVAL_S if self.live else min(self.interval, LIVE_INTERVAL_S), now=False)

    def closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._filter)

    def figures(self) -> dict[str, int | None]:
        stats = self.crawler.stats.get_stats()
        counts, _ = counts_from_stats(stats)
        expected = int(stats.get("pushcrawl/expected", 0))
        total = expected + int(stats.get("pushcrawl/sitemaps", 0)) if expected else None
        return {
            "fetched": counts["fetched"],
            "total": max(total, counts["fetched"]) if total is not None else None,
            "queued": int(stats.get("pushcrawl/queued", 0)),
            "acknowledged": counts["pushed"],
            "unchanged": counts["unchanged"],
            "errors": counts["errors"],
        }

    def line(self) -> str:
        """The plain progress line (log file, and stderr when it is not a terminal)."""
        f = self.figures()
        elapsed = max(time.monotonic() - self.started, 1e-6)
        fetched, total = int(f["fetched"] or 0), f["total"]
        rate = fetched / elapsed
        done = f"{fetched:,}"
        eta = ""
        if total:
            done += f"/{total:,} ({100 * fetched / total:.0f}%)"
            if rate > 0 and total > fetched:
                eta = f" · ETA {_clock((total - fetched) / rate)}"
        return (
            f"fetched {done} · queued {f['queued']:,} · acknowledged {f['acknowledged']:,} · unchanged"
            f" {f['unchanged']:,} · errors {f['errors']:,} · {rate:.1f} pages/s · {_clock(elapsed)}{eta}"
        )

    def tick(self) -> None:
        now = time.monotonic()
        if self.bar is not None:
            f = self.figures()
            if f["total"] != self.bar.total:
                self.bar.total = f["total"]
                self.bar.bar_format = _WITH_TOTAL if f["total"] else _NO_TOTAL
            self.bar.set_postfix_str(
                f"queued {f['queued']:,} · acknowledged {f['acknowledged']:,} · unchanged {f['unchanged']:,}"
                f" · errors {f['errors']:,}",
                refresh=False,
            )
            delta = int(f["fetched"] or 0) - self.bar.n
            if delta:
                self.bar.update(delta)  # redraws, and feeds tqdm's rate and ETA
            else:
                self.bar.refresh()  # no new page (batches still uploading): the counts may still move
        if now - self.last_log < self.interval:
            return
        self.last_log = now
        text = self.line()
        logger.info("progress: %s", text)
        if self.echo:
            self.out.write(f"progress: {text}\n")
            self.out.flush()

    def clear(self) -> None:
        if self.bar is not None:
            self.bar.clear()


def _width(out: TextIO) -> int:
    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
