"""Reconciliation: read back what the index did with the items a run pushed (issue 16, docs/operations.md).

A 202 from the Push API means "queued"; the pipeline may still refuse the item (below an ``olderthan``
threshold, out of sequence, a body its validation refuses, content it cannot read). Two named steps read the
Source Logs API (crawler.pushapi.logs) — a few calls per run, never one per item:

- ``before_run`` (start of a run): earlier runs of the site that are not settled (items still pending when
  they ended) are read again, in one read from the oldest one's start;
- ``after_run`` (end of a run, after its batches were accepted): this run's items; with ``wait_s`` it reads
  again, with growing pauses, until nothing is pending or the time is up (``crawl --wait-indexed``).

Per item, the *latest* entry about the operation the run sent (same orderingId when the server says, else any
entry since the run began) decides: COMPLETED or WARNING at INDEXING → indexed; REJECTED or ERROR at any stage
→ rejected: its reason is recorded and its fingerprint taken back (crawler.indexing_log), so the next run
pushes exactly those items again; anything else → still pending. A failed read never fails the run: the items
stay pending and the next run's ``before_run`` reads them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crawler.errors import PushcrawlError
from crawler.indexing_log import IndexingLog, Rejection, RunIndexing
from crawler.pushapi.logs import RETENTION, LogEntry, SourceLogsClient

logger = logging.getLogger(__name__)

#: entries this long before a run's start still count (clock skew between us and the server)
SKEW = timedelta(minutes=5)
INDEXED = frozenset({"COMPLETED", "WARNING"})
REFUSED = frozenset({"REJECTED", "ERROR"})
#: rejected items a report lists; the state file keeps them all (``pushcrawl runs show``)
REPORT_REJECTED = 50
#: --wait-indexed: first pause between reads, doubled up to the cap (each read is costly on Coveo's side)
FIRST_PAUSE_S, MAX_PAUSE_S = 2.0, 60.0


@dataclass
class RunRef:
    run_id: int
    ordering_id: int
    started_at: float  # epoch seconds


@dataclass
class Reading:
    """One reconciliation of one run."""

    summary: RunIndexing
    new_rejections: list[Rejection] = field(default_factory=list)


def _latest(entries: list[LogEntry], acked: dict[str, int], since: datetime) -> dict[str, LogEntry]:
    latest: dict[str, LogEntry] = {}
    for e in entries:  # oldest first: a later entry replaces an earlier one
        oid = acked.get(e.document_id)
        if oid is None:
            continue
        if e.ordering_id is not None and e.ordering_id != oid:
            continue  # about another operation on the item (an earlier run's, another pusher's)
        if e.ordering_id is None and e.at < since:
            continue
        if e.document_id not in latest or e.at >= latest[e.document_id].at:
            latest[e.document_id] = e
    return latest


def settle(store: IndexingLog, scope: str, run: RunRef, entries: list[LogEntry], truncated: bool) -> Reading:
    """Classify one run's items from ``entries``; record rejections (taking back fingerprints) and the funnel."""
    acked = store.acked(scope, run.run_id)
    known = {r.document_id for r in store.rejections(run.run_id)}
    since = datetime.fromtimestamp(run.started_at, UTC) - SKEW
    latest = _latest(entries, acked, since)
    indexed = sum(1 for e in latest.values() if e.result in INDEXED and e.task == "INDEXING")
    new = [
        Rejection(e.document_id, e.result, e.task, e.reason)
        for e in latest.values()
        if e.result in REFUSED and e.document_id not in known
    ]
    if new:
        store.reject(scope, run.run_id, new)
    rejected = len(known) + len(new)
    pushed = len(acked) + len(known)  # acked still holds the new rejections' ids: they are counted once
    before = store.summary(run.run_id)
    summary = RunIndexing(
        run.run_id,
        pushed,
        indexed,
        rejected,
        max(0, pushed - indexed - rejected),
        time.time(),
        (before.checks if before else 0) + 1,
        truncated,
    )
    store.save(scope, summary)
    for r in new:
        logger.warning(
            "run #%d: the index rejected %s after its 202 (%s at %s): %s",
            run.run_id,
            r.document_id,
            r.result,
            r.task,
            r.reason,
        )
    return Reading(summary, new)


def read(logs: SourceLogsClient, source_id: str, since: float) -> tuple[list[LogEntry], bool, int]:
    moment = datetime.fromtimestamp(since, UTC) - SKEW
    got = logs.entries(source_id, moment)
    return got.entries, got.truncated, got.calls


def before_run(store: IndexingLog, logs: SourceLogsClient, source_id: str, scope: str, run_id: int) -> list[Reading]:
    """Step "reconcile earlier runs": settle what earlier runs left pending (one read for all of them)."""
    oldest = time.time() - RETENTION.total_seconds()
    runs = [RunRef(*r) for r in store.unsettled(scope, run_id, oldest)]
    if not runs:
        return []
    try:
        entries, truncated, _ = read(logs, source_id, min(r.started_at for r in runs))
    except PushcrawlError as exc:
        logger.warning("reading the source logs for earlier runs failed (they stay pending): %s", exc)
        return []
    readings = [settle(store, scope, r, entries, truncated) for r in runs]
    for r in readings:
        s = r.summary
        logger.info(
            "run #%d reconciled: pushed %d → indexed %d · rejected %d · pending %d",
            s.run_id,
            s.pushed,
            s.indexed,
            s.rejected,
            s.pending,
        )
    return readings


def after_run(
    store: IndexingLog,
    logs: SourceLogsClient,
    source_id: str,
    scope: str,
    run: RunRef,
    wait_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Reading | None, str]:
    """Step "reconcile this run": read once, or until nothing is pending within ``wait_s`` seconds.
    Returns the last reading (None if no read succeeded) and why a read failed, if one did."""
    deadline = time.monotonic() + (wait_s or 0.0)
    pause = FIRST_PAUSE_S
    reading: Reading | None = None
    rejections: list[Rejection] = []
    while True:
        try:
            entries, truncated, _ = read(logs, source_id, run.started_at)
        except PushcrawlError as exc:
            return _merged(reading, rejections), f"reading the source logs failed: {exc}"
        reading = settle(store, scope, run, entries, truncated)
        rejections += reading.new_rejections
        left = deadline - time.monotonic()
        if wait_s is None or reading.summary.pending == 0 or left <= 0:
            return _merged(reading, rejections), ""
        logger.info(
            "waiting for the index: %d item(s) pending, next read in %.0fs", reading.summary.pending, min(pause, left)
        )
        sleep(min(pause, left))
        pause = min(pause * 2, MAX_PAUSE_S)


def _merged(reading: Reading | None, rejections: list[Rejection]) -> Reading | None:
    return None if reading is None else Reading(reading.summary, rejections)
