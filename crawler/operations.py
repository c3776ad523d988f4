"""Operator actions outside a crawl — ``pushcrawl delete`` and ``pushcrawl purge`` — done the way a run is.

Each action holds the site's run lock (it never overlaps a crawl of the same site), is recorded in the run
history with its own mode ("delete", "purge") so ``pushcrawl runs`` shows who removed what and when, and
updates the state store only after the Push API acknowledged the call (rule 2): a refused delete leaves the
fingerprints as they were.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from crawler import defaults, secrets
from crawler.config import Settings
from crawler.errors import PushcrawlError
from crawler.runlock import ScopeLock
from crawler.state import StateStore
from crawler.targets import OpenTarget, open_target


@dataclass
class Outcome:
    status: str = "failed"  # finished | failed
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""
    source: str = ""


def run_action(
    settings: Settings,
    site: str,
    mode: str,
    target_override: str | None,
    action: Callable[[OpenTarget, StateStore, str, int], tuple[dict[str, int], str]],
) -> Outcome:
    """Lock the site, record a run of ``mode``, open its target (never creating a source) and call ``action``
    with (target, state, scope, ordering id); it returns (counts, message) once the Push API accepted."""
    target_name, _ = settings.target_for(site, target_override)
    scope = f"{target_name}/{site}"
    state_dir = settings.resolve_path(settings.state_dir)
    lock = ScopeLock(state_dir, scope)
    lock.acquire()
    outcome = Outcome()
    try:
        state = StateStore(state_dir / "state.sqlite")
        ordering_id = int(time.time() * 1000)
        run_id = state.start_run(scope, site, mode, ordering_id, os.getpid())
        opened: OpenTarget | None = None
        try:
            opened = open_target(settings, site, target_override, create_source=False)
            outcome.source = opened.source_name
            outcome.counts, outcome.message = action(opened, state, scope, ordering_id)
            outcome.status = "finished"
            if opened.is_local and not opened.wait_idle(defaults.LOCAL_APPLY_TIMEOUT_S):
                outcome.message += " (the local Push API had not applied it yet)"
        except PushcrawlError as exc:
            outcome.message = str(exc)
            raise
        finally:
            if opened is not None:
                opened.close()
            state.finish_run(run_id, outcome.status, outcome.counts, secrets.redact(outcome.message))
            state.close()
    finally:
        lock.release()
    return outcome
