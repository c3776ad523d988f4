"""The end-of-run steps one by one (crawler.finish, crawler.deletions), on a real state store and run ledger:
each completeness signal blocks the sweep, the guard refuses before anything is applied, the cursor and the
full lineage are committed only by a complete run, the report names each failure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from connectors.base import Connector, ConnectorOptions
from crawler.completeness import Completeness as CompletenessExtension
from crawler.config import Settings
from crawler.context import Run, bind
from crawler.deletions import DeletionPlan, Listing, guard, plan_deletions
from crawler.errors import RunRefused
from crawler.finish import CrawlOutcome, commit, decide_completeness, fill_report, finish
from crawler.identities import SweepPlan
from crawler.ledger import SqliteLedger
from crawler.model import Deletion, Document
from crawler.report import RunReport
from crawler.state import StateStore

SITE = "https://site.example/"
FINISHED = {"finish_reason": "finished"}


def _run(tmp_path: Path, mode: str = "full", max_deletions: float | None = None, dry_run: bool = False) -> Run:
    site: dict[str, object] = {"connector": "sitemap"}
    if max_deletions is not None:
        site["max_deletions"] = max_deletions
    settings = Settings.model_validate({"sites": {"s": site}})
    state = StateStore(tmp_path / "state.sqlite")
    old, now = 1_000, 2_000
    # the site had ten items, pushed by an earlier run (below the sweep threshold)
    state.commit_items("local/s", 1, old, [(f"{SITE}{i}", "fp") for i in range(10)])
    run_id = state.start_run("local/s", "s", mode, now, 1, dry_run)
    return Run(
        settings=settings,
        site_name="s",
        site=settings.sites["s"],
        target_name="local",
        scope="local/s",
        mode=mode,
        dry_run=dry_run,
        run_id=run_id,
        ordering_id=now,
        state=state,
        ledger=SqliteLedger(tmp_path / "state.sqlite", run_id),
        sweep_from=now,
        provider_id="s-identities",
    )


def _saw(run: Run, *numbers: int) -> None:
    """The run met and pushed these items (acknowledged at the run's ordering id)."""
    for n in numbers:
        run.ledger.mark_seen(f"{SITE}{n}")
    run.state.commit_items(run.scope, run.run_id, run.ordering_id, [(f"{SITE}{n}", "fp") for n in numbers])


def _sweep(run: Run, stats: dict[str, object], reason: str = "finished") -> DeletionPlan:
    outcome = CrawlOutcome(reason, dict(stats))
    completeness = decide_completeness(run, outcome)
    return plan_deletions(run, None, completeness.complete, str(completeness), "s")


def test_a_complete_full_run_sweeps_what_it_did_not_see(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _saw(run, *range(9))
    plan = _sweep(run, FINISHED)
    assert plan.sweep == [f"{SITE}9"] and not plan.skipped_reason
    assert plan.sweep_by_ordering_id  # the only site on its source: one olderthan call


# ---- one test per completeness signal: each, alone, blocks the sweep ----


def _assert_blocked(run: Run, stats: dict[str, object], why: str, reason: str = "finished") -> None:
    plan = _sweep(run, stats, reason)
    assert plan.sweep == [], plan
    assert "nothing swept" in plan.skipped_reason and why in plan.skipped_reason, plan.skipped_reason


def test_an_item_error_signal_blocks_the_sweep(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _saw(run, *range(9))
    crawler = get_crawler(settings_dict=bind(run))
    crawler.stats.open_spider()
    ext = CompletenessExtension.from_crawler(crawler)
    # what Scrapy sends when a pipeline raises an unexpected exception for an item
    ext.item_error(Document(document_id=f"{SITE}9"), None, Spider("s"), Failure(ValueError("boom")))
    _assert_blocked(run, {**FINISHED, **crawler.stats.get_stats()}, "1 error(s)")
    (failure,) = run.ledger.failures()
    assert (failure.item_id, failure.reason) == (f"{SITE}9", "pipeline error: boom")


class _Lister(Connector):
    name = "lister"

    @classmethod
    def ping(cls, options: ConnectorOptions) -> None:
        """Nothing to reach: the test calls the listing errback by hand."""

    async def start_full(self) -> AsyncIterator[Any]:
        yield None  # never crawled: the test calls the errback itself


def test_a_listing_failure_signal_blocks_the_sweep(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _saw(run, *range(9))
    crawler = get_crawler(_Lister, settings_dict=bind(run))
    crawler.stats.open_spider()
    ext = CompletenessExtension.from_crawler(crawler)  # held: signals keep only weak references
    spider = _Lister.from_crawler(crawler, site="s")
    spider.listing_failed(f"{SITE}list?page=2: HTTP 503")  # what a connector's listing errback does
    _assert_blocked(run, {**FINISHED, **crawler.stats.get_stats()}, "1 listing page(s) failed")
    assert [f.kind for f in run.ledger.failures()] == ["listing"] and ext.run is run


def test_a_failed_batch_blocks_the_sweep(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _saw(run, *range(8))
    # what the push pipeline records when a batch failed after its retries: each item, and the count
    for n in (8, 9):
        run.ledger.record_error(f"{SITE}{n}", "items batch failed: HTTP 500")
    _assert_blocked(run, {**FINISHED, "pushcrawl/errors": 2}, "2 error(s)")


def test_an_error_only_logged_blocks_the_sweep(tmp_path: Path) -> None:
    # the fallback: an error that nothing counted (a third-party pipeline logging at ERROR) still counts
    run = _run(tmp_path)
    _saw(run, *range(9))
    _assert_blocked(run, {**FINISHED, "log_count/ERROR": 1}, "1 error(s) logged")


def test_a_fatal_stop_blocks_the_sweep(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _saw(run, *range(9))
    assert run.ledger.stop("quota exceeded") and not run.ledger.stop("a second reason")
    _assert_blocked(run, FINISHED, "quota exceeded")


def test_a_spider_that_did_not_finish_blocks_the_sweep(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _saw(run, *range(9))
    _assert_blocked(run, {"finish_reason": "shutdown"}, "reason 'shutdown'", reason="shutdown")


# ---- plan, guard, commit, report ----


def test_reported_deletions_and_listing_diff_are_planned_in_any_mode(tmp_path: Path) -> None:
    run = _run(tmp_path, mode="incremental")
    run.ledger.add_deletion(Deletion(document_id=f"{SITE}0", reason="gone", delete_children=True))
    listing = Listing(frozenset(f"{SITE}{n}" for n in range(1, 9)))  # 9 is missing from a complete listing
    plan = plan_deletions(run, listing, True, "", "s")
    assert [(d.document_id, d.delete_children) for d in plan.explicit] == [(f"{SITE}0", True), (f"{SITE}9", False)]
    assert plan.sweep == []  # an incremental run never sweeps
    incomplete = plan_deletions(run, listing, False, "1 error(s)", "s")
    assert [d.document_id for d in incomplete.explicit] == [f"{SITE}0"]  # no listing diff when incomplete


def test_guard_refuses_over_max_deletions_unless_allowed(tmp_path: Path) -> None:
    run = _run(tmp_path)  # default: 10 % of 10 known items = 1
    plan = DeletionPlan(sweep=[f"{SITE}8", f"{SITE}9"])
    with pytest.raises(RunRefused, match="would delete 2 of 10 known items, more than the limit of 1"):
        guard(run, plan, SweepPlan(), allow_mass=False)
    guard(run, plan, SweepPlan(), allow_mass=True)
    guard(run, DeletionPlan(sweep=[f"{SITE}9"]), SweepPlan(), allow_mass=False)
    idents = SweepPlan(provider="p", stale=["USER:a", "USER:b"], known=4, active=True)
    with pytest.raises(RunRefused, match="disable 2 of 4 known security identities"):
        guard(run, DeletionPlan(), idents, allow_mass=False)


def test_commit_writes_the_cursor_and_ends_the_lineage_only_when_complete(tmp_path: Path) -> None:
    run = _run(tmp_path)
    run.state.begin_full(run.scope, run.ordering_id, run.run_id)
    outcome = CrawlOutcome("finished", dict(FINISHED), new_cursor="2026-12-01")
    incomplete = decide_completeness(run, CrawlOutcome("finished", {**FINISHED, "pushcrawl/errors": 1}))
    assert not commit(run, outcome, incomplete, refused="")
    assert run.state.cursor(run.scope) is None and run.state.pending_full(run.scope) is not None
    complete = decide_completeness(run, outcome)
    assert not commit(run, outcome, complete, refused="refused by the guard")
    assert run.state.cursor(run.scope) is None
    assert commit(run, outcome, complete, refused="")
    assert run.state.cursor(run.scope) == "2026-12-01" and run.state.pending_full(run.scope) is None


def test_report_names_each_failure_and_finish_fails_the_run(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _saw(run, *range(8))
    run.ledger.record_error(f"{SITE}8", "items batch failed: HTTP 500")
    run.ledger.listing_failed("s", f"{SITE}list: timeout")
    report = RunReport("s", "full", "failed", run.ordering_id, {}, 0, 0.0)
    outcome = CrawlOutcome("finished", {**FINISHED, "pushcrawl/errors": 1, "pushcrawl/listing_errors": 1})
    fill_report(report, run, outcome)
    assert report.extra["failures"] == [
        {"kind": "error", "id": f"{SITE}8", "reason": "items batch failed: HTTP 500"},
        {"kind": "listing", "id": "s", "reason": f"{SITE}list: timeout"},
    ]
    finish(report, run, outcome, None, allow_mass=False)
    assert report.status == "failed" and report.deleted_ids == []
    assert "nothing swept" in report.message
    assert report.message.count("error(s)") == 1, report.message  # each reason said once


def test_ledger_seen_ids_survive_buffering_and_duplicates_are_named(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "state.sqlite", 7)
    ids = [f"{SITE}{n}" for n in range(2500)]  # more than one flush
    assert all(ledger.mark_seen(i) for i in ids)
    assert not ledger.mark_seen(ids[0]) and not ledger.mark_seen(ids[-1])
    assert sorted(ledger.seen_ids()) == sorted(ids)
    other = SqliteLedger(tmp_path / "state.sqlite", 8)  # another run: its own facts
    assert other.mark_seen(ids[0]) and not other.was_seen(ids[1])
    assert other.prune({8}) == 2500 and not SqliteLedger(tmp_path / "state.sqlite", 7).was_seen(ids[0])


def test_retention_prunes_old_runs_their_journal_and_their_ledger(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "state.sqlite")
    ids = [state.start_run("local/s", "s", "full", n, 1) for n in range(5)]
    other = state.start_run("local/t", "t", "full", 9, 1)  # another site: its own retention
    for run_id in ids[:-1]:
        state.finish_run(run_id, "finished", {})
        state.journal_open(f"b{run_id}", "local/s", run_id, 1, 10)
        state.journal_close(f"b{run_id}", "failed")
        old = SqliteLedger(tmp_path / "state.sqlite", run_id)
        old.record_error(f"{SITE}{run_id}", "x")
        old.close()  # the runner closes each run's ledger: buffered facts are written
    state.journal_open("pending", "local/s", ids[0], 1, 10)  # unacknowledged: the next run must see it
    ledger = SqliteLedger(tmp_path / "state.sqlite", ids[-1])
    kept = state.prune("local/s", 2)
    assert ledger.prune(kept) == 3  # the failures of the three pruned runs
    assert [r["id"] for r in state.runs("local/s")] == [ids[-1], ids[-2]]
    assert kept == {ids[-2], ids[-1], other}
    assert [b["batch_id"] for b in state.journal_pending("local/s")] == ["pending"]
    assert SqliteLedger(tmp_path / "state.sqlite", ids[-2]).failures()[0].item_id == f"{SITE}{ids[-2]}"
