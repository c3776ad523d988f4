"""What the runner needs from a scaled-out run (``run_site(scale_out=…)``), as a Protocol.

The runner depends on this interface only, not on the coordinator (which imports the runner): no import
cycle, and the runner never loads redis for a single-process run.
"""

from __future__ import annotations

from typing import Any, Protocol

from connectors.base import Connector
from crawler.context import Run
from crawler.finish import CrawlOutcome
from crawler.ledger import RunLedger


class ClosableLedger(RunLedger, Protocol):
    def prune(self, keep_run_ids: set[int]) -> int: ...

    def close(self) -> None: ...


class ScaleOut(Protocol):
    def ledger(self, run_id: int) -> ClosableLedger:
        """The run's ledger, shared by every worker (called once the run row exists)."""

    # Any: a connector loaded by name; its options type is known at run time
    def crawl(self, run: Run, cls: type[Connector[Any]], since: str | None) -> CrawlOutcome:
        """The crawl phase: done by workers; returns the one outcome the end-of-run steps decide from."""
