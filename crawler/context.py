"""RunContext: what one run of one site knows, shared by the runner, the pipelines and the end-of-run step.

The runner attaches it to the Scrapy crawler as ``crawler.pushcrawl`` (not to Scrapy settings, which are
deep-copied and must stay plain data). Pipelines fetch it with ``get_context(crawler)``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, TextIO

from scrapy.exceptions import NotConfigured

from crawler.config import Settings, SiteConfig
from crawler.model import Deletion, Identity
from crawler.pushapi.client import PushApiClient
from crawler.state import StateStore


@dataclass
class RunContext:
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
    # full runs: sweep below this id — the run's own start, or the start of the unfinished full run it resumes
    sweep_from: int = 0
    client: PushApiClient | None = None  # None in dry runs
    source_id: str | None = None
    dry_run_out: TextIO | None = None
    # collected during the crawl, applied by the end-of-run step after the safety checks
    deletions: list[Deletion] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    fatal: str | None = None  # set when pushing must stop (quota, auth): the run fails, nothing is swept
    lock: threading.Lock = field(default_factory=threading.Lock)
    extra: dict[str, Any] = field(default_factory=dict)


def get_context(crawler: Any) -> RunContext:
    ctx = getattr(crawler, "pushcrawl", None)
    if not isinstance(ctx, RunContext):
        raise NotConfigured("pushcrawl pipelines run only inside 'pushcrawl crawl' (no run context)")
    return ctx
