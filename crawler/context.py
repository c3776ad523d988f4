"""Run: what one run of one site is — made by the runner, reached by components through Scrapy's settings.

Scrapy deep-copies settings, so the run itself cannot travel in them; its key does. The runner registers the
run (``bind``), puts ``PUSHCRAWL_RUN = <key>`` into the crawler's settings, and every pipeline or extension
reaches it in ``from_crawler`` with the typed accessor ``get_context(crawler)``. Nothing is attached to the
crawler object, and nothing is read by string key: the facts a run establishes go to its ledger
(crawler.ledger), counters to Scrapy's stats, events through Scrapy's signals (crawler.signals).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import TextIO

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.config import Settings, SiteConfig
from crawler.ledger import RunLedger
from crawler.pushapi.client import PushApiClient
from crawler.state import StateStore

#: the Scrapy setting that names the run a crawler belongs to
SETTING = "PUSHCRAWL_RUN"


@dataclass
class Run:
    settings: Settings
    site_name: str
    site: SiteConfig
    target_name: str
    scope: str  # state key: "<target>/<site>"
    mode: str  # "full" | "incremental"
    dry_run: bool
    run_id: int
    ordering_id: int
    state: StateStore
    ledger: RunLedger
    # full runs: sweep below this id — the run's own start, or the start of the unfinished full run it resumes
    sweep_from: int = 0
    client: PushApiClient | None = None  # None in dry runs
    source_id: str | None = None
    provider_id: str = ""  # the security identity provider of the site's source
    dry_run_out: TextIO | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def fatal(self) -> str | None:
        """Why pushing must stop (quota, auth, breaker), or None: the run fails and nothing is swept."""
        return self.ledger.fatal


#: the name earlier code (and the extract and fields pipelines) use
RunContext = Run

_runs: dict[str, Run] = {}
_keys = itertools.count(1)


def bind(run: Run) -> dict[str, str]:
    """Register ``run`` for this process; returns the Scrapy settings that make a crawler belong to it."""
    key = f"{run.scope}#{run.run_id}.{next(_keys)}"
    _runs[key] = run
    return {SETTING: key}


def unbind(settings: dict[str, str]) -> None:
    _runs.pop(settings.get(SETTING, ""), None)


def get_context(crawler: Crawler) -> Run:
    run = _runs.get(str(crawler.settings.get(SETTING) or ""))
    if run is None:
        raise NotConfigured("pushcrawl pipelines run only inside 'pushcrawl crawl' (no run bound to the crawler)")
    return run
