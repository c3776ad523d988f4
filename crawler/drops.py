"""Named drops: every item a pipeline dropped (``DropItem``: duplicate, empty, too large, no permissions...)
recorded in the run ledger with its id and reason (not the unchanged items ChangesPipeline stops, which are
not lost but already indexed), so ``pushcrawl runs show RUN_ID`` and the report's
``extra.failures`` name it; the counters per reason (``pushcrawl/dropped/<reason>``) stay pipelines.drop's.

Drops a connector decides before an item exists (a ``noindex`` page, content it does not support) are
counted by the connector only; they have no item to name here.
"""

from __future__ import annotations

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawler.completeness import item_id
from crawler.context import Run, get_context
from crawler.errors import Unchanged


class NamedDrops:
    def __init__(self, run: Run) -> None:
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NamedDrops:
        ext = cls(get_context(crawler))
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        return ext

    def item_dropped(self, item: object, response: Response | None, exception: Exception, spider: Spider) -> None:
        if isinstance(exception, Unchanged):  # not a drop: the index already has this version (counted apart)
            return
        self.run.ledger.record_drop(item_id(item), str(exception) or type(exception).__name__)
