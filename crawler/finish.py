"""End of a run, as named steps: decide completeness → plan deletions and the identity sweep → guard → apply
→ commit cursor and lineage → report.

Each step is a function with typed input and output (``decide_completeness``, crawler.deletions'
``plan_deletions``/``guard``/``apply_deletions``, crawler.identities' ``plan_sweep``/``apply_sweep``,
``commit``, ``fill_report``); ``finish`` only runs them in order. The facts they decide from are the run
ledger's (crawler.ledger: errors, listing failures, the fatal reason, reported deletions, identities seen),
Scrapy's stats and what the crawl left (``CrawlOutcome``) — never the progress display.

Data-safety rule 1: a full run sweeps (deletes what it did not push) only when the spider finished normally,
every listing page was fetched and no error was counted — counted by our pipelines, by the connector, or
logged at ERROR by anything else (an item that crashed a pipeline is an error, not a silent gap that the sweep
would turn into a deletion). A dry run computes the same plan from what it saw, prints it, and deletes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from crawler import identities, indexfields
from crawler.context import Run
from crawler.deletions import DeletionPlan, Listing, apply_deletions, guard, plan_deletions, print_dry_run
from crawler.errors import RunRefused
from crawler.ledger import LISTING
from crawler.pushapi.client import PushApiClient
from crawler.report import (
    RunReport,
    Stats,
    apply_field_stats,
    apply_http_stats,
    apply_render_stats,
    counts_from_stats,
)

logger = logging.getLogger(__name__)

#: named failures a report lists; the ledger keeps them all (``pushcrawl runs``)
REPORT_FAILURES = 50


@dataclass(frozen=True)
class CrawlOutcome:
    """What the crawl left for the end of the run, read once from the spider and Scrapy's stats."""

    finish_reason: str
    stats: Stats
    new_cursor: str | None = None
    listing: Listing | None = None  # the ids a ``lists_all_ids`` connector listed


@dataclass(frozen=True)
class PushedTo:
    """The target the end of a real run sends deletions to (None in a dry run)."""

    client: PushApiClient
    source_id: str
    source_name: str
    is_local: bool


@dataclass
class Completeness:
    reasons: list[str] = field(default_factory=list)  # why the run is not proven complete; empty: it is

    @property
    def complete(self) -> bool:
        return not self.reasons

    def __str__(self) -> str:
        return "; ".join(self.reasons)


def decide_completeness(run: Run, outcome: CrawlOutcome) -> Completeness:
    """Step "decide": is the run proven complete? Every signal that says no is named."""
    counts, _ = counts_from_stats(outcome.stats)
    why = []
    if outcome.finish_reason != "finished":
        why.append(f"spider closed with reason {outcome.finish_reason!r}")
    if listing_failures := run.ledger.count(LISTING):
        first = next(f for f in run.ledger.failures() if f.kind == LISTING)
        why.append(f"{listing_failures} listing page(s) failed ({first.reason})")
    if counts["errors"]:
        why.append(f"{counts['errors']} error(s)")
    elif logged := int(outcome.stats.get("log_count/ERROR", 0)):
        # the fallback: an error nothing counted, only logged (a third-party pipeline, an extension)
        why.append(f"{logged} error(s) logged")
    if run.fatal:
        why.append(run.fatal)
    return Completeness(why)


def commit(run: Run, outcome: CrawlOutcome, completeness: Completeness, refused: str) -> bool:
    """Step "commit": the cursor and the end of the full lineage, only for a complete run that was not refused.
    Returns whether the run finished."""
    if not completeness.complete or refused:
        return False
    if not run.dry_run:
        if outcome.new_cursor:
            run.state.commit_cursor(run.scope, outcome.new_cursor, run.run_id)
        if run.mode == "full":
            run.state.end_full(run.scope)
    return True


def fill_report(report: RunReport, run: Run, outcome: CrawlOutcome) -> None:
    """Step "report" (counts part): counts, drops by reason, field names, identities, named failures."""
    stats = outcome.stats
    report.counts, report.dropped_by_reason = counts_from_stats(stats)
    report.batches = int(stats.get("pushcrawl/batches", 0))
    report.extra["would_push"] = int(stats.get("pushcrawl/would_push", 0))
    apply_field_stats(report, stats)  # collected-not-indexed, renamed and rejected field names
    apply_render_stats(report, stats)  # pages rendered in the browser (crawler.render)
    apply_http_stats(report, stats)  # pages revalidated with a 304 (crawler.revalidate)
    report.extra["sweep_from"] = run.sweep_from
    report.extra["identities_pushed"] = int(stats.get("pushcrawl/identities_pushed", 0))
    report.extra["identities_unchanged"] = int(stats.get("pushcrawl/identities_unchanged", 0))
    report.extra["failures"] = [
        {"kind": f.kind, "id": f.item_id, "reason": f.reason} for f in run.ledger.failures(REPORT_FAILURES)
    ]


def _identity_step(run: Run, target: PushedTo | None, plan: identities.SweepPlan, report: RunReport) -> None:
    if target is not None:  # requests made so far (the closing IDLE status comes after), retries among them
        report.extra["push_requests"] = target.client.requests_made
        report.extra["push_retries"] = target.client.retries_made
    if plan.active and (run.dry_run or target is None):
        report.extra["identities_would_disable"] = plan.stale
        return
    note = identities.apply_sweep(run, target.client, plan) if target is not None else plan.note
    if note:
        logger.info(note)
        report.extra["identities_sweep"] = note


def finish(report: RunReport, run: Run, outcome: CrawlOutcome, target: PushedTo | None, allow_mass: bool) -> None:
    """Run the end-of-run steps in order; fills ``report``. Raises RunRefused when the guard refuses."""
    fill_report(report, run, outcome)
    # "collected, not indexed" against the target's real fields (a dry run compares with declared fields)
    indexfields.compare_with_target(report, outcome.stats, None if target is None or run.dry_run else target.client)
    completeness = decide_completeness(run, outcome)
    plan: DeletionPlan = plan_deletions(
        run, outcome.listing, completeness.complete, str(completeness), target.source_name if target else None
    )
    report.deleted_ids = plan.ids
    if plan.skipped_reason:
        logger.warning(plan.skipped_reason)
    idents = identities.plan_sweep(run, completeness.complete)
    if run.dry_run and run.dry_run_out is not None:
        print_dry_run(run.dry_run_out, plan, idents)
    refused = ""
    try:
        guard(run, plan, idents, allow_mass)
    except RunRefused as exc:
        if not run.dry_run:
            raise
        refused = f"a real run would be refused: {exc}"
        report.extra["refused"] = True
    if plan.ids and target is not None and not run.dry_run:
        report.counts["deleted"] = apply_deletions(run, plan, target.client, target.source_id, target.is_local)
    _identity_step(run, None if run.dry_run else target, idents, report)
    if commit(run, outcome, completeness, refused):
        report.status = "finished"
        return
    reason = outcome.finish_reason
    report.status = "aborted" if reason in ("shutdown", "cancelled") else "failed"
    report.message = "; ".join(completeness.reasons + ([refused] if refused else []))
    if plan.skipped_reason:
        # the reasons are the message already: the plan's own words would say them a second time
        report.message += " — run not proven complete: nothing swept"
