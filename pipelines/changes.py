"""Changes pipeline: fingerprint each mapped document and skip, in incremental runs, what has not changed.

The fingerprint covers exactly what is sent (the DocumentBody: content, fields, permissions — built here
once, crawler.wire.body.freeze, and sent as built), so a change in mapping rules or permissions re-pushes the
item even if the page did not change. Full runs push
everything (a full run's sweep removes whatever it did not push) — except a full run that resumes a killed
one: items that run already had acknowledged, with the same fingerprint, are not pushed again (they carry an
ordering id at or above the sweep threshold, so the sweep keeps them).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from crawler.context import get_context
from crawler.errors import Unchanged
from crawler.model import Document
from crawler.wire.body import build, freeze
from pipelines import drop


def fingerprint(doc: Document) -> str:
    """The fingerprint of ``doc``'s body as it is now (crawler.wire.body.Built.fingerprint)."""
    return build(doc).fingerprint()


class ChangesPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.ctx = get_context(crawler)
        assert crawler.stats is not None  # made by Scrapy before any pipeline
        self.stats = crawler.stats
        # a full run that resumes a killed one skips what that lineage already acknowledged (crawler.state)
        self.resuming = self.ctx.mode == "full" and self.ctx.sweep_from < self.ctx.ordering_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChangesPipeline:
        return cls(crawler)

    # Any: Scrapy hands a pipeline whatever the spider yielded, and passes on what it returns
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Document):
            return item
        if not self.ctx.ledger.mark_seen(item.document_id):
            raise drop(self.crawler, "duplicate", f"{item.document_id} already seen in this run", "INFO")
        # the body is built here once and travels on the item: the sink checks and sends this very body
        item.fingerprint = freeze(item).fingerprint()
        if self._known(item.document_id) == item.fingerprint:
            # not a drop: counted apart so that "dropped" in the report means lost items only
            self.stats.inc_value("pushcrawl/unchanged")
            raise Unchanged(f"unchanged: {item.document_id}", log_level="DEBUG")
        return item

    def _known(self, document_id: str) -> str | None:
        """The fingerprint to compare with, looked up per item (a primary-key read) rather than a map of the
        whole site held for the run: memory stays flat in the size of the site."""
        if self.ctx.mode == "incremental":
            return self.ctx.state.fingerprint(self.ctx.scope, document_id)
        if self.resuming:
            return self.ctx.state.fingerprint(self.ctx.scope, document_id, acked_since=self.ctx.sweep_from)
        return None
