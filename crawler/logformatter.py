"""Scrapy log formatter: dropped and scraped items are logged by id and reason, never in full.

Scrapy's default prints the whole item, which for a document is its entire text (and would print any
secret a connector put in metadata). An unchanged item is routine and logged at DEBUG.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter


def _label(item: Any) -> str:
    doc_id = getattr(item, "document_id", None) or getattr(item, "name", None)
    return f"{type(item).__name__} {doc_id}" if doc_id else type(item).__name__


class PushcrawlLogFormatter(logformatter.LogFormatter):
    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        level = getattr(exception, "log_level", None) or "WARNING"
        return {
            "level": getattr(logging, level) if isinstance(level, str) else level,
            "msg": "Dropped %(item)s: %(exception)s",
            "args": {"item": _label(item), "exception": exception},
        }

    def scraped(self, item: Any, response: Any, spider: Any) -> Any:
        return {"level": logging.DEBUG, "msg": "Scraped %(item)s", "args": {"item": _label(item)}}

    def item_error(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        return {"level": logging.ERROR, "msg": "Error processing %(item)s", "args": {"item": _label(item)}}
