"""The state store (SQLite): run history, per-item and per-identity fingerprints, cursors, the batch journal.

Data-safety rule 2 lives here: an item's fingerprint and a site's cursor are written only by
``journal_ack`` / ``commit_items`` / ``commit_cursor``, which callers invoke after the Push API acknowledged
the batch (202) or the run succeeded. ``journal_ack`` records a batch's items and closes its journal entry
in one transaction, so the journal and the fingerprints can never disagree. A crash therefore leaves
un-acknowledged items without a fingerprint, and the next run pushes them again; it never skips them.

Security identities get the same treatment, per identity provider: their fingerprints are written only when
their batch was acknowledged, so incremental runs skip identities that did not change, and a full run knows
how many identities its sweep would disable before it asks for it (the mass-deletion guard).

Everything is keyed by ``scope`` = "<target name>/<site>" so that one state file can serve several targets
(a dry run against production never touches the local target's state, and vice versa).

A full reindex that did not finish (killed, failed, refused) leaves a row in ``full_runs``: the ordering id
its sweep must use. The next full run of the scope resumes that lineage — it skips items already acknowledged
since then with the same fingerprint and sweeps below the *original* start, so nothing acknowledged by the
killed run is pushed again or swept by mistake.

The store is used from Scrapy's reactor thread and from push worker threads: one connection guarded by a
lock, WAL mode so a concurrent ``pushcrawl runs`` can read while a crawl writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.errors import StateError
from crawler.jsontypes import JSONObject

SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL, site TEXT NOT NULL, mode TEXT NOT NULL, status TEXT NOT NULL,
    ordering_id INTEGER NOT NULL, started_at REAL NOT NULL, finished_at REAL,
    counts TEXT NOT NULL DEFAULT '{}', message TEXT NOT NULL DEFAULT '', pid INTEGER,
    dry_run INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_scope ON runs (scope, id);
CREATE TABLE IF NOT EXISTS items (
    scope TEXT NOT NULL, document_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    ordering_id INTEGER NOT NULL, run_id INTEGER NOT NULL, acked_at REAL NOT NULL,
    PRIMARY KEY (scope, document_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cursors (
    scope TEXT PRIMARY KEY, cursor TEXT NOT NULL, run_id INTEGER NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS full_runs (
    scope TEXT PRIMARY KEY, ordering_id INTEGER NOT NULL, run_id INTEGER NOT NULL, started_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS identities (
    scope TEXT NOT NULL, provider TEXT NOT NULL, identity TEXT NOT NULL, fingerprint TEXT NOT NULL,
    ordering_id INTEGER NOT NULL, run_id INTEGER NOT NULL, acked_at REAL NOT NULL,
    PRIMARY KEY (scope, provider, identity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (
    batch_id TEXT PRIMARY KEY, scope TEXT NOT NULL, run_id INTEGER NOT NULL, status TEXT NOT NULL,
    items INTEGER NOT NULL, bytes INTEGER NOT NULL, created_at REAL NOT NULL, finished_at REAL,
    detail TEXT NOT NULL DEFAULT ''
);
"""

_UPSERT_ITEM = (
    "INSERT INTO items (scope, document_id, fingerprint, ordering_id, run_id, acked_at) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (scope, document_id) DO UPDATE SET fingerprint=excluded.fingerprint,"
    " ordering_id=excluded.ordering_id, run_id=excluded.run_id, acked_at=excluded.acked_at"
)


class StateStore:
    """SQLite-backed state for runs, fingerprints, cursors and the batch journal."""

    #: ``path`` is a SQLite file here, which caches of a site may share (pipelines.langmemo); not for SharedState
    local_file = True

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StateError(f"{path}: written by a newer pushcrawl (schema {row[0]}); upgrade pushcrawl")
            elif int(row[0]) < SCHEMA_VERSION:
                self._migrate(int(row[0]))
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state store {path} is unusable: {exc}") from exc

    def _migrate(self, version: int) -> None:
        if version < 2:  # v2: dry runs flagged in the history (they must not count as the "last run")
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(runs)")}
            if "dry_run" not in columns:
                self._db.execute("ALTER TABLE runs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0")
        # v3: the identities table, created by _SCHEMA; it starts empty, so the first run pushes every identity
        self._db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- runs ----
    def start_run(self, scope: str, site: str, mode: str, ordering_id: int, pid: int, dry_run: bool = False) -> int:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO runs (scope, site, mode, status, ordering_id, started_at, pid, dry_run)"
                " VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                (scope, site, mode, ordering_id, time.time(), pid, int(dry_run)),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, counts: JSONObject, message: str = "") -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET status=?, finished_at=?, counts=?, message=? WHERE id=?",
                (status, time.time(), json.dumps(counts, sort_keys=True), message, run_id),
            )

    def prune(self, scope: str, keep: int) -> set[int]:
        """Forget all but the newest ``keep`` runs of ``scope`` (never a running one) and their closed journal
        entries; returns the ids of the runs kept, so the run ledger can drop the facts of the others."""
        with self._tx() as db:
            kept = {
                int(r[0])
                for r in db.execute("SELECT id FROM runs WHERE scope=? ORDER BY id DESC LIMIT ?", (scope, keep))
            }
            kept |= {int(r[0]) for r in db.execute("SELECT id FROM runs WHERE scope=? AND status='running'", (scope,))}
            oldest = min(kept) if kept else 0
            db.execute("DELETE FROM runs WHERE scope=? AND id<? AND status<>'running'", (scope, oldest))
            db.execute("DELETE FROM journal WHERE scope=? AND run_id<? AND status<>'pending'", (scope, oldest))
            every = {int(r[0]) for r in db.execute("SELECT id FROM runs")}
        return every

    def close_dead_runs(self, scope: str, own_run_id: int) -> int:
        """Mark runs left 'running' by a process that died (SIGKILL, power loss) as 'killed'.

        Only called while holding the scope's run lock, so no other run of the scope can be alive.
        """
        with self._tx() as db:
            cur = db.execute(
                "UPDATE runs SET status='killed', message='the process ended without finishing (killed?)',"
                " finished_at=coalesce(finished_at, ?) WHERE scope=? AND status='running' AND id<>? AND dry_run=0",
                (time.time(), scope, own_run_id),
            )
            return cur.rowcount

    _RUN_KEYS = (
        "id",
        "scope",
        "site",
        "mode",
        "status",
        "ordering_id",
        "started_at",
        "finished_at",
        "counts",
        "message",
        "pid",
        "dry_run",
    )

    def runs(
        self, scope: str | None = None, limit: int = 20, *, site: str | None = None, dry_runs: bool = True
    ) -> list[JSONObject]:
        """Run history, newest first; filter by scope ("target/site") or by site name."""
        where, args = [], []
        if scope is not None:
            where.append("scope=?")
            args.append(scope)
        if site is not None:
            where.append("site=?")
            args.append(site)
        if not dry_runs:
            where.append("dry_run=0")
        sql = f"SELECT {', '.join(self._RUN_KEYS)} FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        out = [dict(zip(self._RUN_KEYS, row, strict=True)) for row in rows]
        for run in out:
            run["counts"] = json.loads(run["counts"])
            run["dry_run"] = bool(run["dry_run"])
        return out

    # ---- full-run lineage ----
    def pending_full(self, scope: str) -> JSONObject | None:
        """The unfinished full reindex of this scope, if any: {"ordering_id", "run_id", "started_at"}."""
        with self._lock:
            row = self._db.execute(
                "SELECT ordering_id, run_id, started_at FROM full_runs WHERE scope=?", (scope,)
            ).fetchone()
        return dict(zip(("ordering_id", "run_id", "started_at"), row, strict=True)) if row else None

    def begin_full(self, scope: str, ordering_id: int, run_id: int) -> None:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO full_runs VALUES (?, ?, ?, ?)", (scope, ordering_id, run_id, time.time()))

    def end_full(self, scope: str) -> None:
        """The full reindex completed and swept: the next full run starts a new lineage."""
        with self._tx() as db:
            db.execute("DELETE FROM full_runs WHERE scope=?", (scope,))

    # ---- items ----
    def fingerprints(self, scope: str) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute("SELECT document_id, fingerprint FROM items WHERE scope=?", (scope,))
            return dict(rows.fetchall())

    def fingerprint(self, scope: str, document_id: str, acked_since: int | None = None) -> str | None:
        """One item's fingerprint; with ``acked_since``, only if acknowledged at or above that ordering id."""
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint FROM items WHERE scope=? AND document_id=? AND ordering_id>=?",
                (scope, document_id, -1 if acked_since is None else acked_since),
            ).fetchone()
        return row[0] if row else None

    def item_count(self, scope: str) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM items WHERE scope=?", (scope,)).fetchone()[0])

    def commit_items(self, scope: str, run_id: int, ordering_id: int, items: Iterable[tuple[str, str]]) -> None:
        """Record (document_id, fingerprint) pairs whose batch was acknowledged."""
        now = time.time()
        with self._tx() as db:
            db.executemany(_UPSERT_ITEM, [(scope, doc_id, fp, ordering_id, run_id, now) for doc_id, fp in items])

    def forget_items(self, scope: str, document_ids: Iterable[str]) -> None:
        """Drop items whose deletion was acknowledged."""
        with self._tx() as db:
            db.executemany("DELETE FROM items WHERE scope=? AND document_id=?", [(scope, d) for d in document_ids])

    def forget_children(self, scope: str, prefix: str) -> None:
        with self._tx() as db:
            db.execute(
                "DELETE FROM items WHERE scope=? AND (document_id=? OR substr(document_id, 1, ?)=?)",
                (scope, prefix, len(prefix) + 1, prefix + "/"),
            )

    def acked_since(self, scope: str, ordering_id: int) -> dict[str, str]:
        """Fingerprints of items acknowledged with an ordering id >= ``ordering_id`` (a resumed full run's skips)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT document_id, fingerprint FROM items WHERE scope=? AND ordering_id>=?", (scope, ordering_id)
            )
            return dict(rows.fetchall())

    def items_not_acked_since(self, scope: str, ordering_id: int) -> list[str]:
        """Ids last acknowledged by a run older than ``ordering_id`` (what a full run's sweep removes)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT document_id FROM items WHERE scope=? AND ordering_id<? ORDER BY document_id",
                (scope, ordering_id),
            ).fetchall()
        return [r[0] for r in rows]

    # ---- security identities (key = "<type>:<name>") ----
    def identity_states(self, scope: str, provider: str) -> dict[str, tuple[str, int]]:
        """identity key → (fingerprint, ordering id) of what the provider acknowledged."""
        with self._lock:
            rows = self._db.execute(
                "SELECT identity, fingerprint, ordering_id FROM identities WHERE scope=? AND provider=?",
                (scope, provider),
            ).fetchall()
        return {key: (fp, oid) for key, fp, oid in rows}

    def identities_ack(
        self,
        batch_id: str,
        scope: str,
        provider: str,
        run_id: int,
        ordering_id: int,
        identities: Iterable[tuple[str, str]],
    ) -> None:
        """An identity batch was accepted: record (key, fingerprint) pairs, forget the disabled ones (fingerprint
        ""), and close the journal entry, atomically."""
        now = time.time()
        kept: list[tuple[str, str]] = []
        gone: list[tuple[str, str]] = []
        for key, fp in identities:
            (kept if fp else gone).append((key, fp))
        with self._tx() as db:
            db.executemany(
                "INSERT INTO identities VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, provider, identity)"
                " DO UPDATE SET fingerprint=excluded.fingerprint, ordering_id=excluded.ordering_id,"
                " run_id=excluded.run_id, acked_at=excluded.acked_at",
                [(scope, provider, key, fp, ordering_id, run_id, now) for key, fp in kept],
            )
            db.executemany(
                "DELETE FROM identities WHERE scope=? AND provider=? AND identity=?",
                [(scope, provider, key) for key, _ in gone],
            )
            db.execute("UPDATE journal SET status='acked', finished_at=?, detail='' WHERE batch_id=?", (now, batch_id))

    def identities_not_acked_since(self, scope: str, provider: str, ordering_id: int) -> list[str]:
        """Identity keys last acknowledged before ``ordering_id`` (what a full run's identity sweep disables)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT identity FROM identities WHERE scope=? AND provider=? AND ordering_id<? ORDER BY identity",
                (scope, provider, ordering_id),
            ).fetchall()
        return [r[0] for r in rows]

    def forget_identities(self, scope: str, provider: str, keys: Iterable[str]) -> None:
        """Drop identities whose disabling was acknowledged."""
        with self._tx() as db:
            db.executemany(
                "DELETE FROM identities WHERE scope=? AND provider=? AND identity=?",
                [(scope, provider, k) for k in keys],
            )

    def forget_scope(self, scope: str) -> int:
        """Forget every item, the cursor and an unfinished full reindex of a scope (its source was purged), so
        the next run lists and pushes everything again. Returns how many items were forgotten."""
        with self._tx() as db:
            n = db.execute("DELETE FROM items WHERE scope=?", (scope,)).rowcount
            db.execute("DELETE FROM cursors WHERE scope=?", (scope,))
            db.execute("DELETE FROM full_runs WHERE scope=?", (scope,))
            return int(n)

    # ---- cursors ----
    def cursor(self, scope: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT cursor FROM cursors WHERE scope=?", (scope,)).fetchone()
        return row[0] if row else None

    def commit_cursor(self, scope: str, cursor: str, run_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO cursors VALUES (?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET"
                " cursor=excluded.cursor, run_id=excluded.run_id, updated_at=excluded.updated_at",
                (scope, cursor, run_id, time.time()),
            )

    # ---- journal ----
    def journal_open(self, batch_id: str, scope: str, run_id: int, items: int, size: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO journal (batch_id, scope, run_id, status, items, bytes, created_at)"
                " VALUES (?, ?, ?, 'pending', ?, ?, ?)",
                (batch_id, scope, run_id, items, size, time.time()),
            )

    def journal_ack(
        self, batch_id: str, scope: str, run_id: int, ordering_id: int, items: Iterable[tuple[str, str]]
    ) -> None:
        """A batch was accepted: record its items' fingerprints and close its journal entry, atomically."""
        now = time.time()
        with self._tx() as db:
            db.executemany(_UPSERT_ITEM, [(scope, doc_id, fp, ordering_id, run_id, now) for doc_id, fp in items])
            db.execute("UPDATE journal SET status='acked', finished_at=?, detail='' WHERE batch_id=?", (now, batch_id))

    def journal_close(self, batch_id: str, status: str, detail: str = "") -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE journal SET status=?, finished_at=?, detail=? WHERE batch_id=?",
                (status, time.time(), detail, batch_id),
            )

    def journal_pending(self, scope: str) -> list[JSONObject]:
        """Batches a killed run left open: their items were not acknowledged and will be pushed again."""
        with self._lock:
            rows = self._db.execute(
                "SELECT batch_id, run_id, items, bytes FROM journal WHERE scope=? AND status='pending'",
                (scope,),
            ).fetchall()
        return [dict(zip(("batch_id", "run_id", "items", "bytes"), r, strict=True)) for r in rows]
