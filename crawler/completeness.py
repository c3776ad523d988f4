"""Completeness signals: every item error and listing failure of a run, recorded in its ledger and stats.

DESIGN.md rule 1 lets a full run sweep only a run proven complete. What can break that proof arrives from
many places — an item that crashed a pipeline (Scrapy's ``item_error``), a callback that raised
(``spider_error``), a listing page a connector could not read (our ``listing_failed`` signal), a batch the
Push API refused (the push sink) — and all of it lands here, in the run ledger with the item's id and the
reason, and in ``pushcrawl/errors`` / ``pushcrawl/listing_errors``. The end of the run (crawler.finish)
decides from those facts alone; the progress display only shows them.

Outside a run (``scrapy crawl`` of a connector, unit tests) the extension is not configured.
"""

from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler import signals as pushcrawl_signals
from crawler.context import Run, get_context

logger = logging.getLogger(__name__)


def item_id(item: object) -> str:
    """The id an item goes by in the ledger: its document id, else its type (an item without an id)."""
    for attr in ("document_id", "name"):
        value = getattr(item, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(item).__name__


class Completeness:
    def __init__(self, crawler: Crawler, run: Run) -> None:
        self.crawler = crawler
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Completeness:
        ext = cls(crawler, get_context(crawler))
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        crawler.signals.connect(ext.spider_error, signal=signals.spider_error)
        crawler.signals.connect(ext.listing_failed, signal=pushcrawl_signals.listing_failed)
        return ext

    def _stats_inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def item_error(self, item: object, response: Response | None, spider: Spider, failure: Failure) -> None:
        # Scrapy logs the traceback; without this count the item would be a silent gap a sweep deletes
        self._stats_inc("pushcrawl/errors")
        self.run.ledger.record_error(item_id(item), f"pipeline error: {failure.getErrorMessage()}")

    def spider_error(self, failure: Failure, response: Response, spider: Spider) -> None:
        # counted by Scrapy as spider_exceptions/<type> (crawler.report adds those to the errors)
        self.run.ledger.record_error(response.url, f"callback error: {failure.getErrorMessage()}")

    def listing_failed(self, where: str, reason: str) -> None:
        self.run.ledger.listing_failed(where, reason)
