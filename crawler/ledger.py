"""The run ledger: the facts one run establishes, recorded through one small interface.

What a run learns while it crawls decides what its end may do (DESIGN.md rule 1): the ids it saw, the items
that failed and why, the listing pages it could not read, the deletions the connector reported, the security
identities it sent, and the reason it had to stop. ``RunLedger`` is that record; the end-of-run steps
(crawler.finish) read only from it and from the state store, never from the spider or the progress display.

``SqliteLedger`` keeps the facts in the state file's ``ledger_*`` tables, keyed by run id, so memory stays
flat in the size of the site (a 200,000-page run does not hold 200,000 ids in a Python set) and each failed
item stays listed, with its reason, after the process is gone (``pushcrawl runs``, the report). Writes are
buffered and flushed in one transaction per ``FLUSH_EVERY`` facts, and before any read.

The interface is shaped for a run spread over several worker processes: every method is a fact about one
item or one event, idempotent where that matters (``mark_seen`` answers whether the id was new *to the run*),
and nothing requires one process to hold the whole set — a shared backend (Redis sets and lists) can
implement it unchanged. Acknowledged items are not recorded here: their fingerprints are committed by the
state store's journal in the transaction that closes their batch (rule 2), which is also where a later
reconciliation can take back the fingerprint of an item the index rejected after its 202.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from crawler.model import Deletion

#: buffered facts written per transaction: large enough that SQLite is not the bottleneck of a fast crawl
FLUSH_EVERY = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_seen (
    run_id INTEGER NOT NULL, item_id TEXT NOT NULL, PRIMARY KEY (run_id, item_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_identities (
    run_id INTEGER NOT NULL, identity TEXT NOT NULL, PRIMARY KEY (run_id, identity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger_events (
    run_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, item_id TEXT NOT NULL,
    reason TEXT NOT NULL, flag INTEGER NOT NULL DEFAULT 0, at REAL NOT NULL, PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
"""

#: event kinds of ``ledger_events``
ERROR, LISTING, DELETION, FATAL, DROPPED = "error", "listing", "deletion", "fatal", "dropped"


@dataclass(frozen=True)
class Failure:
    """One named failure: what failed (an item id, a listing URL, a batch) and why."""

    kind: str  # ERROR | LISTING | FATAL | DROPPED
    item_id: str
    reason: str


class RunLedger(Protocol):
    """The facts of one run. Implementations must be safe to call from the reactor and push worker threads."""

    def mark_seen(self, item_id: str) -> bool:
        """Record that the run met ``item_id``; False when it had met it before (a duplicate)."""

    def was_seen(self, item_id: str) -> bool: ...

    def seen_ids(self) -> Iterator[str]: ...

    def record_error(self, item_id: str, reason: str) -> None:
        """An item (or batch of items, one call each) the run failed to push: the run is not proven complete."""

    def listing_failed(self, where: str, reason: str) -> None:
        """A listing page could not be read: ids it held are unknown, so the run is not proven complete."""

    def record_drop(self, item_id: str, reason: str) -> None:
        """An item a pipeline dropped on purpose, with its named reason (not an error: the run stays complete)."""

    def add_deletion(self, deletion: Deletion) -> None: ...

    def deletions(self) -> Iterator[Deletion]: ...

    def identity_seen(self, key: str) -> None: ...

    def identities_seen(self) -> set[str]: ...

    def claim_identity(self, key: str, fingerprint: str) -> bool:
        """True for the first process of the run to send this version of an identity: the one that pushes it
        (a run spread over workers pushes each identity once, not once per worker that meets it)."""
        ...

    def stop(self, reason: str) -> bool:
        """Record why pushing must stop (quota, auth, breaker); False if the run was already stopping."""

    @property
    def fatal(self) -> str | None: ...

    def failures(self, limit: int | None = None) -> list[Failure]:
        """Named failures (errors, listing failures, the fatal reason, drops), oldest first."""

    def count(self, kind: str) -> int: ...

    def flush(self) -> None: ...


class SqliteLedger:
    """RunLedger in SQLite tables of the state file (its own connection: WAL lets it write beside the store)."""

    def __init__(self, path: Path, run_id: int) -> None:
        self.run_id = run_id
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._seen: set[str] = set()  # buffered, not yet written
        self._idents: set[str] = set()
        self._claims: set[tuple[str, str]] = set()  # one process: the claim is this set's business only
        self._events: list[tuple[str, str, str, int]] = []
        self._seq = 0
        self._fatal: str | None = None
        self._counts = {ERROR: 0, LISTING: 0, DELETION: 0, FATAL: 0, DROPPED: 0}

    # ---- seen ids ----
    def mark_seen(self, item_id: str) -> bool:
        with self._lock:
            if self.was_seen(item_id):
                return False
            self._seen.add(item_id)
            self._maybe_flush()
            return True

    def was_seen(self, item_id: str) -> bool:
        with self._lock:
            if item_id in self._seen:
                return True
            row = self._db.execute(
                "SELECT 1 FROM ledger_seen WHERE run_id=? AND item_id=?", (self.run_id, item_id)
            ).fetchone()
            return row is not None

    def seen_ids(self) -> Iterator[str]:
        self.flush()
        with self._lock:
            rows = self._db.execute("SELECT item_id FROM ledger_seen WHERE run_id=?", (self.run_id,)).fetchall()
        return (r[0] for r in rows)

    # ---- events ----
    def _event(self, kind: str, item_id: str, reason: str, flag: int = 0) -> None:
        with self._lock:
            self._events.append((kind, item_id, reason, flag))
            self._counts[kind] += 1
            self._maybe_flush()

    def record_error(self, item_id: str, reason: str) -> None:
        self._event(ERROR, item_id, reason)

    def listing_failed(self, where: str, reason: str) -> None:
        self._event(LISTING, where, reason)

    def record_drop(self, item_id: str, reason: str) -> None:
        self._event(DROPPED, item_id, reason)

    def add_deletion(self, deletion: Deletion) -> None:
        self._event(DELETION, deletion.document_id, deletion.reason, int(deletion.delete_children))

    def deletions(self) -> Iterator[Deletion]:
        for item_id, reason, flag in self._rows(DELETION):
            yield Deletion(document_id=item_id, reason=reason, delete_children=bool(flag))

    def stop(self, reason: str) -> bool:
        with self._lock:
            if self._fatal is not None:
                return False
            self._fatal = reason
            self._event(FATAL, "", reason)
            return True

    @property
    def fatal(self) -> str | None:
        return self._fatal

    def failures(self, limit: int | None = None) -> list[Failure]:
        self.flush()
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, item_id, reason FROM ledger_events WHERE run_id=? AND kind<>? ORDER BY seq LIMIT ?",
                (self.run_id, DELETION, -1 if limit is None else limit),
            ).fetchall()
        return [Failure(*row) for row in rows]

    def count(self, kind: str) -> int:
        return self._counts.get(kind, 0)

    # ---- identities ----
    def identity_seen(self, key: str) -> None:
        with self._lock:
            self._idents.add(key)
            self._maybe_flush()

    def claim_identity(self, key: str, fingerprint: str) -> bool:
        with self._lock:
            if (key, fingerprint) in self._claims:
                return False
            self._claims.add((key, fingerprint))
            return True

    def identities_seen(self) -> set[str]:
        self.flush()
        with self._lock:
            rows = self._db.execute("SELECT identity FROM ledger_identities WHERE run_id=?", (self.run_id,))
            return {r[0] for r in rows}

    # ---- storage ----
    def _rows(self, kind: str) -> Iterator[tuple[str, str, int]]:
        self.flush()
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, reason, flag FROM ledger_events WHERE run_id=? AND kind=? ORDER BY seq",
                (self.run_id, kind),
            ).fetchall()
        return iter(rows)

    def _maybe_flush(self) -> None:
        if len(self._seen) + len(self._idents) + len(self._events) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if not (self._seen or self._idents or self._events):
                return
            run, now = self.run_id, time.time()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR IGNORE INTO ledger_seen VALUES (?, ?)", ((run, i) for i in self._seen))
                self._db.executemany(
                    "INSERT OR IGNORE INTO ledger_identities VALUES (?, ?)", ((run, k) for k in self._idents)
                )
                rows = []
                for kind, item_id, reason, flag in self._events:
                    self._seq += 1
                    rows.append((run, self._seq, kind, item_id, reason, flag, now))
                self._db.executemany("INSERT INTO ledger_events VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self._seen.clear()
            self._idents.clear()
            self._events.clear()

    def prune(self, keep_run_ids: set[int]) -> int:
        """Delete the facts of runs not in ``keep_run_ids`` (the state store's retention decides which)."""
        self.flush()
        removed = 0
        with self._lock:
            for table in ("ledger_seen", "ledger_identities", "ledger_events"):
                ids = {r[0] for r in self._db.execute(f"SELECT DISTINCT run_id FROM {table}")}
                for run_id in ids - keep_run_ids - {self.run_id}:
                    removed += self._db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,)).rowcount
        return removed

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()
