"""Scrapy log formatter: dropped and scraped items are logged by id and reason, never in full.

Scrapy's default prints the whole item, which for a document is its entire text (and would print any
secret a connector put in metadata). An unchanged item is routine and logged at DEBUG.
"""

from __future__ import annotations

import logging

from scrapy import Spider, logformatter
from scrapy.http import Response
from scrapy.logformatter import LogFormatterResult
from twisted.python.failure import Failure


def _label(item: object) -> str:
    doc_id = getattr(item, "document_id", None) or getattr(item, "name", None)
    return f"{type(item).__name__} {doc_id}" if doc_id else type(item).__name__


class PushcrawlLogFormatter(logformatter.LogFormatter):
    def dropped(
        self, item: object, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        level = getattr(exception, "log_level", None) or "WARNING"
        return {
            "level": getattr(logging, level) if isinstance(level, str) else level,
            "msg": "Dropped %(item)s: %(exception)s",
            "args": {"item": _label(item), "exception": exception},
        }

    def scraped(self, item: object, response: Response | Failure | None, spider: Spider) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Scraped %(item)s", "args": {"item": _label(item)}}

    def item_error(
        self, item: object, exception: BaseException, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult:
        return {"level": logging.ERROR, "msg": "Error processing %(item)s", "args": {"item": _label(item)}}
