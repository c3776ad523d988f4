"""What the index did with each run's items, kept in the state file: the shape ``pushcrawl runs`` and the
Content Browser read (docs/operations.md, "Indexed, not just accepted").

Two tables beside the state store's (same file, own connection, as crawler.ledger):

- ``indexing_runs``: one row per reconciled run — ``pushed`` (items the run had acknowledged with a 202),
  ``indexed`` (their latest log entry is COMPLETED at the INDEXING stage), ``rejected`` (REJECTED or ERROR),
  ``pending`` (neither yet), ``checked_at`` (epoch seconds of the last read), ``checks`` (reads so far),
  ``truncated`` (the last read stopped at its page cap). ``pending`` 0 means the run is settled.
- ``indexing_failures``: every item the index rejected after its 202, per run: id, result, stage, reason.
  A rejected item's fingerprint is taken back in the same transaction (data-safety rule 2: state advances
  only on acknowledgement, and a later refusal withdraws it), so the next run pushes it again. ``resolved``
  turns 1 once a later run listed the whole site (a full run, or an incremental one that ignored its cursor
  because of these rejections): the item was pushed again then, or no longer exists.

The items a run pushed are read from the state store's ``items`` table (``run_id`` = the run that last
acknowledged each item) plus this module's failures (their ``items`` row is gone).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from crawler.jsontypes import JSONObject

_SCHEMA = """
CREATE TABLE IF NOT EXISTS indexing_runs (
    run_id INTEGER PRIMARY KEY, scope TEXT NOT NULL, pushed INTEGER NOT NULL, indexed INTEGER NOT NULL,
    rejected INTEGER NOT NULL, pending INTEGER NOT NULL, checked_at REAL NOT NULL, checks INTEGER NOT NULL,
    truncated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS indexing_failures (
    run_id INTEGER NOT NULL, document_id TEXT NOT NULL, result TEXT NOT NULL, task TEXT NOT NULL,
    reason TEXT NOT NULL, at REAL NOT NULL, resolved INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, document_id)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class Rejection:
    document_id: str
    result: str  # REJECTED | ERROR
    task: str  # the pipeline stage that refused it
    reason: str


@dataclass(frozen=True)
class RunIndexing:
    """The funnel's tail for one run (the JSON shape of ``indexing_runs``)."""

    run_id: int
    pushed: int
    indexed: int
    rejected: int
    pending: int
    checked_at: float
    checks: int
    truncated: bool

    def to_json(self) -> JSONObject:
        return asdict(self)


class IndexingLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def rejections(self, run_id: int, limit: int | None = None) -> list[Rejection]:
        with self._lock:
            rows = self._db.execute(
                "SELECT document_id, result, task, reason FROM indexing_failures WHERE run_id=?"
                " ORDER BY at, document_id LIMIT ?",
                (run_id, -1 if limit is None else limit),
            ).fetchall()
        return [Rejection(*r) for r in rows]

    def rejection_count(self, run_id: int) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM indexing_failures WHERE run_id=?", (run_id,)).fetchone()
        return int(row[0])

    def reject(self, scope: str, run_id: int, items: Iterable[Rejection]) -> None:
        """Record rejections and take back those items' fingerprints (only the ones this run committed)."""
        now = time.time()
        rows = list(items)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for r in rows:
                    self._db.execute(
                        "INSERT OR REPLACE INTO indexing_failures VALUES (?, ?, ?, ?, ?, ?, 0)",
                        (run_id, r.document_id, r.result, r.task, r.reason, now),
                    )
                    self._db.execute(
                        "DELETE FROM items WHERE scope=? AND document_id=? AND run_id=?", (scope, r.document_id, run_id)
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def save(self, scope: str, summary: RunIndexing) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO indexing_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    summary.run_id,
                    scope,
                    summary.pushed,
                    summary.indexed,
                    summary.rejected,
                    summary.pending,
                    summary.checked_at,
                    summary.checks,
                    int(summary.truncated),
                ),
            )

    def summary(self, run_id: int) -> RunIndexing | None:
        with self._lock:
            row = self._db.execute(
                "SELECT run_id, pushed, indexed, rejected, pending, checked_at, checks, truncated"
                " FROM indexing_runs WHERE run_id=?",
                (run_id,),
            ).fetchone()
        if row is None:
            return None
        run_id, pushed, indexed, rejected, pending, checked_at, checks, truncated = row
        return RunIndexing(run_id, pushed, indexed, rejected, pending, checked_at, checks, bool(truncated))

    def unsettled(self, scope: str, before_run: int, since: float) -> list[tuple[int, int, float]]:
        """(run id, ordering id, started_at) of earlier real runs of ``scope`` that pushed items and are not
        settled (never reconciled, or items still pending), started after ``since`` (logs are kept 14 days)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT r.id, r.ordering_id, r.started_at FROM runs r LEFT JOIN indexing_runs i ON i.run_id = r.id"
                " WHERE r.scope=? AND r.id<? AND r.dry_run=0 AND r.started_at>=? AND (i.run_id IS NULL OR i.pending>0)"
                " AND EXISTS (SELECT 1 FROM items WHERE scope=r.scope AND run_id=r.id) ORDER BY r.id",
                (scope, before_run, since),
            ).fetchall()
        return [(int(a), int(b), float(c)) for a, b, c in rows]

    def unresolved(self, scope: str, before_run: int) -> int:
        """Rejections of earlier runs of ``scope`` no whole-site listing has met since."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM indexing_failures f JOIN runs r ON r.id = f.run_id"
                " WHERE r.scope=? AND f.run_id<? AND f.resolved=0",
                (scope, before_run),
            ).fetchone()
        return int(row[0])

    def resolve(self, scope: str, before_run: int) -> None:
        """A run listed the whole site and finished: earlier rejections were pushed again (or are gone)."""
        with self._lock:
            self._db.execute(
                "UPDATE indexing_failures SET resolved=1 WHERE resolved=0 AND run_id<?"
                " AND run_id IN (SELECT id FROM runs WHERE scope=?)",
                (before_run, scope),
            )

    def prune(self, keep_run_ids: set[int]) -> None:
        """Forget the runs the state store's retention dropped (``keep_runs``)."""
        with self._lock:
            for table in ("indexing_runs", "indexing_failures"):
                ids = {int(r[0]) for r in self._db.execute(f"SELECT DISTINCT run_id FROM {table}")}
                for run_id in ids - keep_run_ids:
                    self._db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
