"""Recheck of known ids a crawl did not reach: 404/410 → ``Deletion``; anything else keeps the item.

A link-following or sitemap crawl cannot tell "not linked any more" from "gone". When the runner passes the
ids it indexed before (``spider.known_ids``; absent means none), ``RecheckMixin`` fetches, once the crawl is
otherwise done (``spider_idle``), every known id the run has not seen, and yields a ``Deletion`` only for
those that answer 404 or 410. A 200 is handed to the connector's ``parse_rechecked`` (still indexable);
timeouts and 5xx change nothing (counted as ``pushcrawl/recheck/failed``): a transient outage never deletes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.log import SpiderLoggerAdapter
from twisted.python.failure import Failure

from connectors.base import CrawlMode
from connectors.failures import describe
from crawler.model import Deletion
from crawler.scrapytypes import Output

GONE = (404, 410)


def known_ids(spider: object) -> set[str]:
    """The ids the framework indexed before for this site, or an empty set when it passes none.

    The set itself, not a copy: connectors test membership per URL, and a copy per call of a 200,000-id set
    would cost a crawl its memory and its time."""
    ids = getattr(spider, "known_ids", None)  # a plain scrapy.Spider (unit tests) may have none
    if isinstance(ids, set):
        return ids
    return set(ids) if ids else set()


class RecheckMixin:
    """Mix into a Connector: call ``seen(url)`` for every id the crawl reached; the rest is rechecked at idle.

    Rechecks run in incremental mode only: a full run's sweep already removes what it did not push.
    """

    crawler: Crawler
    if TYPE_CHECKING:  # provided by scrapy.Spider, which the connector this is mixed into inherits

        @property
        def logger(self) -> SpiderLoggerAdapter: ...

    mode: CrawlMode
    #: the runner passes ``known_ids`` to connectors that declare this (connectors.base.Connector)
    uses_known_ids = True

    def setup_recheck(self) -> None:
        self._seen_ids: set[str] = set()
        self._rechecked = False
        self.crawler.signals.connect(self._recheck_on_idle, signal=signals.spider_idle)

    def seen(self, document_id: str) -> None:
        # setdefault: a spider built without from_crawler (unit tests) still records what it saw
        self.__dict__.setdefault("_seen_ids", set()).add(document_id)

    def recheck_targets(self) -> list[str]:
        if self.mode != "incremental":
            return []
        if not getattr(self, "listing_complete", True):  # unread listings would make everything look gone
            self.logger.warning("listing incomplete: known ids are not rechecked this run")
            return []
        return sorted(known_ids(self) - self.__dict__.get("_seen_ids", set()))

    def _recheck_on_idle(self) -> None:
        if self._rechecked:
            return
        self._rechecked = True
        targets = self.recheck_targets()
        if not targets:
            return
        self.logger.info("rechecking %d known ids the crawl did not reach", len(targets))
        assert self.crawler.engine is not None  # spider_idle is sent by the running engine
        for url in targets:
            self.crawler.engine.crawl(
                scrapy.Request(
                    url,
                    callback=self._parse_recheck,
                    errback=self._recheck_failed,
                    cb_kwargs={"known_id": url},
                    meta={"handle_httpstatus_list": list(GONE), "recheck": True},
                    dont_filter=True,
                )
            )
        raise DontCloseSpider

    def _parse_recheck(self, response: Response, known_id: str) -> Iterable[Output]:
        self.crawler.stats.inc_value("pushcrawl/recheck/fetched")
        if response.status in GONE:
            self.crawler.stats.inc_value("pushcrawl/gone")
            yield Deletion(document_id=known_id, reason=f"HTTP {response.status} on recheck")
            return
        yield from self.parse_rechecked(response, known_id)

    def parse_rechecked(self, response: Response, known_id: str) -> Iterable[Output]:
        """A known id that still answers: by default nothing (kept as indexed). Connectors may re-index it."""
        return ()

    def _recheck_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("pushcrawl/recheck/failed")
        request = getattr(failure, "request", None)
        self.logger.warning("recheck failed (item kept): %s: %s", getattr(request, "url", "?"), describe(failure))
