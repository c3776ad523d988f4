"""Reconciliation's tally: the latest Source Logs entry about each item a run pushed, kept in SQLite.

A read of the source logs after a run of 200,000 items is 200,000 entries or more; holding them, the run's
acknowledged ids and the latest entry per item in Python (~600 B an item) made the end of a run grow with the
site. The tally reads one page at a time instead: it looks up the page's ids among the run's acknowledged
items (primary-key reads of the state file's ``items`` table) and keeps, per item, the latest entry about the
run's own operation in a TEMP table of its own connection (on disk: ``temp_store=FILE``), which
``crawler.reconcile`` then counts. Nothing is written to the state file here: a read that fails half way
leaves no trace, and the caller records the outcome only once every page was read.

Which entry decides an item (as before): only items the run acknowledged; an entry naming another orderingId
is about another operation (an earlier run's, another pusher's) and is ignored; an entry without one counts
only from the run's start (less the clock-skew margin); of the rest, the latest (ties: the later read) wins.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from crawler.pushapi.logs import LogEntry

_SCHEMA = """
CREATE TEMP TABLE tally (
    run_id INTEGER NOT NULL, document_id TEXT NOT NULL, at REAL NOT NULL, result TEXT NOT NULL,
    task TEXT NOT NULL, reason TEXT NOT NULL, UNIQUE (run_id, document_id)
);
"""
# the row keeps its rowid (first appearance) when a later entry replaces it: rejections keep read order
_UPSERT = (
    "INSERT INTO tally VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, document_id) DO UPDATE SET"
    " at=excluded.at, result=excluded.result, task=excluded.task, reason=excluded.reason WHERE excluded.at >= at"
)


class Tally:
    """The latest entry per item for some runs of one scope; ``runs`` maps run id → epoch seconds from which an
    entry without an orderingId counts."""

    def __init__(self, state_path: Path, scope: str, runs: dict[int, float]) -> None:
        self.scope = scope
        self.runs = runs
        self._db = sqlite3.connect(str(state_path), timeout=30, isolation_level=None)
        self._db.execute("PRAGMA temp_store=FILE")  # the tally has a row per item: on disk, not in memory
        self._db.executescript(_SCHEMA)

    def add(self, entries: Iterable[LogEntry]) -> None:
        """One page of entries, oldest first."""
        page = list(entries)
        ids = json.dumps(sorted({e.document_id for e in page}))
        self._db.execute("BEGIN")
        try:
            for run_id, since in self.runs.items():
                acked = dict(
                    self._db.execute(
                        "SELECT document_id, ordering_id FROM items WHERE scope=? AND run_id=?"
                        " AND document_id IN (SELECT value FROM json_each(?))",
                        (self.scope, run_id, ids),
                    ).fetchall()
                )
                rows = [
                    (run_id, e.document_id, e.at.timestamp(), e.result, e.task, e.reason)
                    for e in page
                    if (oid := acked.get(e.document_id)) is not None
                    and (e.ordering_id == oid if e.ordering_id is not None else e.at.timestamp() >= since)
                ]
                self._db.executemany(_UPSERT, rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def acked(self, run_id: int) -> int:
        """Items whose fingerprint ``run_id`` committed (and still holds)."""
        row = self._db.execute("SELECT count(*) FROM items WHERE scope=? AND run_id=?", (self.scope, run_id))
        return int(row.fetchone()[0])

    def count(self, run_id: int, results: Iterable[str], task: str) -> int:
        wanted = json.dumps(sorted(results))
        row = self._db.execute(
            "SELECT count(*) FROM tally WHERE run_id=? AND task=? AND result IN (SELECT value FROM json_each(?))",
            (run_id, task, wanted),
        )
        return int(row.fetchone()[0])

    def refused(self, run_id: int, results: Iterable[str]) -> list[tuple[str, str, str, str]]:
        """(id, result, task, reason) of the run's items whose latest entry refused them and that are not yet
        recorded as rejected (crawler.indexing_log), in read order."""
        rows = self._db.execute(
            "SELECT document_id, result, task, reason FROM tally t WHERE run_id=?"
            " AND result IN (SELECT value FROM json_each(?)) AND NOT EXISTS (SELECT 1 FROM indexing_failures f"
            " WHERE f.run_id=t.run_id AND f.document_id=t.document_id) ORDER BY rowid",
            (run_id, json.dumps(sorted(results))),
        )
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows.fetchall()]

    def close(self) -> None:
        self._db.close()  # the TEMP table goes with the connection
