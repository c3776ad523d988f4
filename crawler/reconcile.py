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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crawler.errors import PushcrawlError
from crawler.indexing_log import IndexingLog, Rejection, RunIndexing
from crawler.logtally import Tally
from crawler.pushapi.logs import RETENTION, LogEntry, LogsStream, SourceLogsClient

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


def settle(store: IndexingLog, scope: str, run: RunRef, entries: Iterable[LogEntry], truncated: bool) -> Reading:
    """Classify one run's items from one read's ``entries`` (oldest first); record rejections (taking back
    fingerprints) and the funnel."""
    pages: list[list[LogEntry] | None] = [list(entries), *([None] if truncated else [])]  # None: the cap
    return settle_runs(store, scope, [run], LogsStream(iter(pages)))[0]


def settle_runs(
    store: IndexingLog,
    scope: str,
    runs: list[RunRef],
    stream: LogsStream,
) -> list[Reading]:
    """Classify the items of ``runs`` from one read, page by page (crawler.logtally keeps the latest entry per
    item on disk, so memory does not grow with the run). Nothing is recorded until every page was read: a read
    that fails half way (PushcrawlError from ``stream``) leaves the runs as they were."""
    since = {r.run_id: (datetime.fromtimestamp(r.started_at, UTC) - SKEW).timestamp() for r in runs}
    tally = Tally(store.path, scope, since)
    try:
        for page in stream:
            tally.add(page)
        return [_record(store, scope, run, tally, stream.truncated) for run in runs]
    finally:
        tally.close()


def _record(store: IndexingLog, scope: str, run: RunRef, tally: Tally, truncated: bool) -> Reading:
    acked = tally.acked(run.run_id)  # before the new rejections take their fingerprints back
    indexed = tally.count(run.run_id, INDEXED, "INDEXING")
    new = [Rejection(*row) for row in tally.refused(run.run_id, REFUSED)]
    known = store.rejection_count(run.run_id)
    if new:
        store.reject(scope, run.run_id, new)
    rejected = known + len(new)
    pushed = acked + known  # acked still holds the new rejections' ids: they are counted once
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


def read(logs: SourceLogsClient, source_id: str, since: float) -> LogsStream:
    """One read of the source logs from ``since`` (epoch seconds, less the skew margin), page by page."""
    return logs.stream(source_id, datetime.fromtimestamp(since, UTC) - SKEW)


def before_run(store: IndexingLog, logs: SourceLogsClient, source_id: str, scope: str, run_id: int) -> list[Reading]:
    """Step "reconcile earlier runs": settle what earlier runs left pending (one read for all of them)."""
    oldest = time.time() - RETENTION.total_seconds()
    runs = [RunRef(*r) for r in store.unsettled(scope, run_id, oldest)]
    if not runs:
        return []
    stream = read(logs, source_id, min(r.started_at for r in runs))
    try:
        readings = settle_runs(store, scope, runs, stream)
    except PushcrawlError as exc:
        logger.warning("reading the source logs for earlier runs failed (they stay pending): %s", exc)
        return []
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
        stream = read(logs, source_id, run.started_at)
        try:
            reading = settle_runs(store, scope, [run], stream)[0]
        except PushcrawlError as exc:
            return _merged(reading, rejections), f"reading the source logs failed: {exc}"
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
