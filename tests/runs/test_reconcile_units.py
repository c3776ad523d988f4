"""Reconciliation's decisions on a real state file (crawler.reconcile, crawler.indexing_log, crawler.indexed):
which entry decides an item, what a rejection takes back, when an incremental run ignores its cursor."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler import indexed
from crawler.errors import PushError
from crawler.indexing_log import IndexingLog
from crawler.pushapi.logs import LogEntry, LogsStream
from crawler.reconcile import RunRef, settle, settle_runs
from crawler.state import StateStore

SCOPE = "idx/cms"


def _entry(doc: str, result: str, task: str, at: datetime, oid: int | None) -> LogEntry:
    return LogEntry(doc, at, "ADD", result, task, f"{result} at {task}", oid)


def _run(state: StateStore, oid: int, docs: list[str]) -> RunRef:
    run_id = state.start_run(SCOPE, "cms", "incremental", oid, 1)
    state.commit_items(SCOPE, run_id, oid, [(d, "fp") for d in docs])
    state.finish_run(run_id, "finished", {})
    return RunRef(run_id, oid, oid / 1000)


def test_the_latest_entry_about_the_runs_own_operation_decides(tmp_path: Path) -> None:
    state, log = StateStore(tmp_path / "state.sqlite"), IndexingLog(tmp_path / "state.sqlite")
    start = datetime.now(UTC)
    oid = int(start.timestamp() * 1000)
    run = _run(state, oid, ["a", "b", "c", "d", "e"])
    t = [start + timedelta(seconds=n) for n in range(6)]
    entries = [
        _entry("a", "COMPLETED", "INDEXING", t[1], oid),
        _entry("b", "COMPLETED", "INDEXING", t[1], oid),
        _entry("b", "REJECTED", "CONSUMING", t[2], oid),  # later: b is rejected
        _entry("c", "REJECTED", "CONSUMING", t[3], oid - 1),  # about another operation: ignored
        _entry("d", "ERROR", "PROCESSING", start - timedelta(hours=1), None),  # before the run, no id: ignored
        _entry("e", "COMPLETED", "CONSUMING", t[4], oid),  # not at INDEXING yet: pending
        _entry("zz", "REJECTED", "VALIDATION", t[5], oid),  # not this run's item
    ]
    reading = settle(log, SCOPE, run, entries, truncated=False)
    s = reading.summary
    assert (s.pushed, s.indexed, s.rejected, s.pending) == (5, 1, 1, 3)
    assert [r.document_id for r in reading.new_rejections] == ["b"]
    assert set(state.fingerprints(SCOPE)) == {"a", "c", "d", "e"}  # b's fingerprint taken back

    again = settle(log, SCOPE, run, entries, truncated=False)  # a second read: same counts, b counted once
    assert (again.summary.pushed, again.summary.rejected, again.summary.checks) == (5, 1, 2)
    assert again.new_rejections == []


def test_an_incremental_run_ignores_its_cursor_until_rejected_items_were_met_again(tmp_path: Path) -> None:
    state, log = StateStore(tmp_path / "state.sqlite"), IndexingLog(tmp_path / "state.sqlite")
    oid = int(datetime.now(UTC).timestamp() * 1000)
    first = _run(state, oid, ["a", "b"])
    settle(log, SCOPE, first, [_entry("a", "REJECTED", "VALIDATION", datetime.now(UTC), oid)], False)
    second = _run(state, oid + 1, [])
    assert indexed.relist(log, SCOPE, second.run_id, "2026-12-01") is None  # a: must be fetched again
    log.resolve(SCOPE, second.run_id + 1)  # the second run listed the whole site and finished
    assert indexed.relist(log, SCOPE, second.run_id + 1, "2026-12-01") == "2026-12-01"
    assert indexed.relist(log, SCOPE, second.run_id + 1, None) is None


def _pages(entries: list[LogEntry], size: int, fail_after: int | None = None) -> Iterator[list[LogEntry] | None]:
    for n, start in enumerate(range(0, len(entries), size)):
        if fail_after is not None and n == fail_after:
            raise PushError("read source logs: HTTP 503")
        yield entries[start : start + size]


def test_a_later_page_replaces_an_earlier_one_and_a_read_failing_half_way_records_nothing(tmp_path: Path) -> None:
    state, log = StateStore(tmp_path / "state.sqlite"), IndexingLog(tmp_path / "state.sqlite")
    start = datetime.now(UTC)
    oid = int(start.timestamp() * 1000)
    run = _run(state, oid, ["a", "b", "c"])
    t = [start + timedelta(seconds=n) for n in range(4)]
    entries = [
        _entry("a", "COMPLETED", "INDEXING", t[1], oid),
        _entry("b", "COMPLETED", "INDEXING", t[1], oid),
        _entry("a", "REJECTED", "CONSUMING", t[2], oid),  # next page: a is rejected after all
        _entry("c", "COMPLETED", "INDEXING", t[3], oid),
    ]
    with pytest.raises(PushError):
        settle_runs(log, SCOPE, [run], LogsStream(_pages(entries, 2, fail_after=1)))
    assert log.summary(run.run_id) is None and log.rejections(run.run_id) == []  # nothing recorded
    assert set(state.fingerprints(SCOPE)) == {"a", "b", "c"}

    (reading,) = settle_runs(log, SCOPE, [run], LogsStream(_pages(entries, 2)))
    s = reading.summary
    assert (s.pushed, s.indexed, s.rejected, s.pending) == (3, 2, 1, 0)
    assert [r.document_id for r in reading.new_rejections] == ["a"]
    assert set(state.fingerprints(SCOPE)) == {"b", "c"}


def test_a_read_is_tallied_page_by_page_not_held_whole(tmp_path: Path) -> None:
    """20,000 entries in pages of 1,000, made as they are read: the Python heap the tally needs stays far below
    what holding the read (~460 B an entry, plus the run's ids) would take."""
    state, log = StateStore(tmp_path / "state.sqlite"), IndexingLog(tmp_path / "state.sqlite")
    start = datetime.now(UTC)
    oid = int(start.timestamp() * 1000)
    run = _run(state, oid, [f"synthetic://doc/{n}" for n in range(20_000)])

    def pages() -> Iterator[list[LogEntry] | None]:
        for first in range(0, 20_000, 1000):
            yield [
                _entry(f"synthetic://doc/{n}", "COMPLETED", "INDEXING", start, oid) for n in range(first, first + 1000)
            ]

    tracemalloc.start()
    try:
        (reading,) = settle_runs(log, SCOPE, [run], LogsStream(pages()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (reading.summary.pushed, reading.summary.indexed, reading.summary.pending) == (20_000, 20_000, 0)
    assert peak < 3_000_000, f"{peak:,} B traced while tallying"  # the whole read: ~9 MB of entries alone
