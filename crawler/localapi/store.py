"""SQLite storage of the local Push API: sources, items (+ their text), the operation queue, identities,
file containers, fields, tokens and the activity log; and the search index derived from it (textindex.py).

One database file in WAL mode. Connections come from a small pool (werkzeug runs each request in a fresh
thread, so thread-local connections would be opened and dropped per request). Writers serialise on one lock
and use ``BEGIN IMMEDIATE``: SQLite allows a single writer anyway, and taking the lock in Python avoids
``database is locked`` errors from deferred transactions that upgrade to writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.jsontypes import JSONObject
from crawler.localapi import languages
from crawler.localapi.textindex import TextIndex

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE, visibility TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'IDLE', created_ms INTEGER NOT NULL, threshold INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS items(
    rid INTEGER PRIMARY KEY, source_id TEXT NOT NULL, document_id TEXT NOT NULL, ordering_id INTEGER NOT NULL,
    parent_id TEXT, fields TEXT NOT NULL, collected TEXT NOT NULL, permissions TEXT, public INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL, UNIQUE(source_id, document_id));
CREATE TABLE IF NOT EXISTS perms(pid INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS texts(rid INTEGER PRIMARY KEY, lang TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS search_outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, rid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seqs(
    source_id TEXT NOT NULL, document_id TEXT NOT NULL, ordering_id INTEGER NOT NULL,
    PRIMARY KEY(source_id, document_id));
CREATE TABLE IF NOT EXISTS queue(
    id INTEGER PRIMARY KEY AUTOINCREMENT, due REAL NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,
    ordering_id INTEGER NOT NULL, payload TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS queue_due ON queue(due, id);
CREATE TABLE IF NOT EXISTS files(
    id TEXT PRIMARY KEY, created REAL NOT NULL, expires REAL NOT NULL, size INTEGER NOT NULL DEFAULT 0,
    uploaded INTEGER NOT NULL DEFAULT 0, consumed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS activity(
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, target TEXT NOT NULL, document_id TEXT,
    operation TEXT NOT NULL, ordering_id INTEGER, outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
    task TEXT);
CREATE INDEX IF NOT EXISTS activity_ts ON activity(ts_ms, id);
CREATE TABLE IF NOT EXISTS fields(
    name TEXT PRIMARY KEY, type TEXT NOT NULL, system INTEGER NOT NULL DEFAULT 0, spec TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS providers(
    id_key TEXT PRIMARY KEY, id TEXT NOT NULL, spec TEXT NOT NULL, sources TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS identities(
    provider_key TEXT NOT NULL, name_key TEXT NOT NULL, provider TEXT NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, info TEXT NOT NULL, members TEXT NOT NULL, mappings TEXT NOT NULL,
    wellknowns TEXT NOT NULL, ordering_id INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
    updated_ms INTEGER NOT NULL, PRIMARY KEY(provider_key, name_key));
CREATE TABLE IF NOT EXISTS tokens(
    token TEXT PRIMARY KEY, user_ids TEXT NOT NULL, created_ms INTEGER NOT NULL);
"""

#: system fields that exist in a fresh index, as Coveo's do (name -> type)
SYSTEM_FIELDS = {
    "title": "STRING",
    "author": "STRING",
    "date": "DATE",
    "clickableuri": "STRING",
    "permanentid": "STRING",
    "language": "STRING",
    "filetype": "STRING",
    "uri": "STRING",
    "source": "STRING",
    "size": "LONG",
    "parentid": "STRING",
    "sourcetype": "STRING",
    "collection": "STRING",
    "urihash": "STRING",
}


def now_ms() -> int:
    return int(time.time() * 1000)


class Store:
    """Thin access layer over the database; callers write SQL through ``read()`` / ``write()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pool: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._local = threading.local()
        #: permission body -> pid (perm_id): rows of ``perms`` are never changed or deleted, so a pid once
        #: committed stays right; emptied when a write transaction fails, whose new pids SQLite will reuse
        self._pids: dict[str, int] = {}
        with self.read() as db:
            db.executescript(SCHEMA)  # executescript commits on its own, so it runs outside write()
        with self.write() as db:
            self._migrate(db)
            for name, ftype in SYSTEM_FIELDS.items():
                spec = {"name": name, "type": ftype, "system": True}
                db.execute(
                    "INSERT OR IGNORE INTO fields(name, type, system, spec) VALUES (?,?,1,?)",
                    (name, ftype, json.dumps(spec)),
                )
        self.index = TextIndex(path.with_suffix(".search"), self)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring a data directory written by an earlier version up to date (nothing is ever dropped)."""
        columns = {r[1] for r in db.execute("PRAGMA table_info(items)")}
        if "perm_id" not in columns:
            # perm_id: items share permission bodies; search evaluates each distinct body once, not per item.
            db.execute("ALTER TABLE items ADD COLUMN perm_id INTEGER")
            for rid, body in db.execute("SELECT rid, permissions FROM items WHERE permissions IS NOT NULL").fetchall():
                db.execute("UPDATE items SET perm_id = ? WHERE rid = ?", (self.perm_id(db, body), rid))
        db.execute("CREATE INDEX IF NOT EXISTS items_perm ON items(source_id, perm_id)")
        if "task" not in {r[1] for r in db.execute("PRAGMA table_info(activity)")}:
            db.execute("ALTER TABLE activity ADD COLUMN task TEXT")  # the pipeline stage (Source Logs API)
        kind = db.execute("SELECT type FROM sqlite_master WHERE name = 'items_fts'").fetchone()
        if kind is not None and kind[0] == "table":
            # Texts used to live in an FTS5 table; search moved to tantivy (textindex.py), which is rebuilt
            # from ``texts`` on open. Items keep their language from their fields.
            db.execute(
                "INSERT OR IGNORE INTO texts(rid, lang, title, body) SELECT f.rowid, '', f.title, f.body"
                " FROM items_fts f JOIN items i ON i.rid = f.rowid"
            )
            for rid, fields in db.execute("SELECT rid, fields FROM items").fetchall():
                lang = languages.code(json.loads(fields).get("language"))
                db.execute("UPDATE texts SET lang = ? WHERE rid = ?", (lang, rid))
            db.execute("DROP TABLE items_fts")
        # Readers that join ``items_fts`` for an item's text (Content Browser, /local/item) keep working.
        db.execute("CREATE VIEW IF NOT EXISTS items_fts(rowid, title, body) AS SELECT rid, title, body FROM texts")

    def perm_id(self, db: sqlite3.Connection, body: str | None) -> int | None:
        """The pid of a permission body, inserted when new; remembered, as a batch's items share a few bodies
        (two statements an item otherwise). Called inside write() only."""
        if body is None:
            return None
        pid = self._pids.get(body)
        if pid is None:
            db.execute("INSERT OR IGNORE INTO perms(body) VALUES (?)", (body,))
            pid = int(db.execute("SELECT pid FROM perms WHERE body = ?", (body,)).fetchone()[0])
            if len(self._pids) >= 10_000:  # bodies come from pushed items: bounded
                self._pids.clear()
            self._pids[body] = pid
        return pid

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._pool_lock:
            db = self._pool.pop() if self._pool else None
        if db is None:
            db = self._connect()
        try:
            yield db
        finally:
            with self._pool_lock:
                self._pool.append(db)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed on success, rolled back on any exception."""
        current = getattr(self._local, "db", None)
        if current is not None:  # nested use on the same thread (a helper inside a transaction): join it
            yield current
            return
        with self._write_lock, self.read() as db:
            db.execute("BEGIN IMMEDIATE")
            self._local.db = db
            committed = False
            try:
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
                committed = True
            finally:
                self._local.db = None
                if not committed:  # pids inserted by this transaction are gone, and SQLite reuses them
                    self._pids.clear()

    def close(self) -> None:
        self.index.close()
        with self._pool_lock:
            for db in self._pool:
                db.close()
            self._pool.clear()

    # -- small shared helpers -------------------------------------------------------------------------
    def log(
        self,
        db: sqlite3.Connection,
        target: str,
        operation: str,
        outcome: str,
        *,
        document_id: str | None = None,
        ordering_id: int | None = None,
        detail: str = "",
        task: str | None = None,
    ) -> None:
        """One activity entry; ``task`` is the pipeline stage an item outcome happened at (logsapi.py)."""
        db.execute(
            "INSERT INTO activity(ts_ms, target, document_id, operation, ordering_id, outcome, detail, task)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (now_ms(), target, document_id, operation, ordering_id, outcome, detail, task),
        )

    def source(self, source_id: str) -> JSONObject | None:
        with self.read() as db:
            row = db.execute("SELECT * FROM sources WHERE id = ?", (source_id,)).fetchone()
        return dict(row) if row else None

    def field_names(self, db: sqlite3.Connection) -> set[str]:
        return {r[0] for r in db.execute("SELECT name FROM fields")}

    def pending(self) -> int:
        """Queued operations plus items not yet in the search index: 0 means everything is searchable."""
        with self.read() as db:
            queued = int(db.execute("SELECT COUNT(*) FROM queue").fetchone()[0])
            return queued + int(db.execute("SELECT COUNT(*) FROM search_outbox").fetchone()[0])

    def unindexed(self) -> int:
        with self.read() as db:
            return int(db.execute("SELECT COUNT(*) FROM search_outbox").fetchone()[0])

    def enqueue(self, kind: str, target: str, ordering_id: int, payload: JSONObject, due: float) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO queue(due, kind, target, ordering_id, payload, created_ms) VALUES (?,?,?,?,?,?)",
                (due, kind, target, ordering_id, json.dumps(payload), now_ms()),
            )
