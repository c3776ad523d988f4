"""What language detection answered for each document last time, so an unchanged text is not detected again.

A no-change rerun pushes nothing, yet detected the language of every document again (and loaded py3langid's
74 MB model to do it): ~37 % of its CPU (bench/RESULTS.md). The language cannot simply be left out of an
unchanged item: it is part of the body the fingerprint covers (a field, ``language``), so the changes pipeline
needs it to decide "unchanged". Detection is a pure function of what it reads — the first
``language.DETECT_WINDOW`` characters, the candidate languages (``extract.languages``) and the model — so
this memo keeps, per document, a digest of exactly those and the answer. The same digest gives the same
answer without detecting; any other text, candidate list or py3langid version is detected afresh. What an
item pushes, and whether it counts as changed, is therefore exactly what it was without the memo
(tests/test_language_memo.py).

The memo lives in a table of the state file (its own connection, like the run ledger), one row per
document of the scope, written in batches (``FLUSH_EVERY``) and at close; a full run first forgets the
documents the state no longer holds. It is a cache, not run state: it
may be written before the item is acknowledged, since it records only what detection answered. A dry run
reads it but writes nothing; a distributed worker (no local state file) detects as before. The Scrapy
setting ``PUSHCRAWL_LANGUAGE_MEMO: false`` turns it off (the rerun bench compares both).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipelines import language

log = logging.getLogger(__name__)
SCHEMA = """
CREATE TABLE IF NOT EXISTS language_memo (
    scope TEXT NOT NULL,
    document_id TEXT NOT NULL,
    digest BLOB NOT NULL,
    language TEXT NOT NULL,
    PRIMARY KEY (scope, document_id)
) WITHOUT ROWID;
"""
#: memo rows held before they are written in one transaction
FLUSH_EVERY = 1000


@cache
def _model() -> bytes:
    """Which model answers: another py3langid may answer differently for the same text."""
    try:
        return f"py3langid {version('py3langid')}".encode()
    except PackageNotFoundError:  # pragma: no cover - installed with pushcrawl
        return b"py3langid ?"


def digest(text: str, languages: tuple[str, ...]) -> bytes:
    """Everything detection reads for ``text``: its window, the candidates, the model."""
    h = hashlib.blake2b(digest_size=16)
    h.update(_model() + b"\0" + ",".join(languages).encode() + b"\0")
    h.update(text[: language.DETECT_WINDOW].encode("utf-8", "surrogatepass"))
    return h.digest()


class LanguageMemo:
    """Per-document detection answers of one scope, in the state file at ``path``."""

    def __init__(self, path: Path, scope: str, *, write: bool = True) -> None:
        self.scope = scope
        self.write = write
        self.reused = 0
        self.detected = 0
        self._pending: list[tuple[str, str, bytes, str]] = []
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def detect(self, document_id: str, text: str, languages: tuple[str, ...]) -> str | None:
        """``language.detect(text, languages)``, answered from the memo when it read the same thing before."""
        if len(text) < language.MIN_DETECT_CHARS:
            return None  # language.detect's own answer, without a look-up
        key = digest(text, languages)
        try:
            row = self._db.execute(
                "SELECT digest, language FROM language_memo WHERE scope=? AND document_id=?", (self.scope, document_id)
            ).fetchone()
        except sqlite3.Error as exc:  # a cache: when it cannot be read, detection answers as it always did
            log.warning("language memo unreadable, detecting instead: %s", exc)
            row = None
        if row is not None and row[0] == key:
            self.reused += 1
            return str(row[1])
        found = language.detect(text, languages)
        self.detected += 1
        if found is not None and self.write:
            self._pending.append((self.scope, document_id, key, found))
            if len(self._pending) >= FLUSH_EVERY:
                self.flush()
        return found

    def prune(self) -> None:
        """Forget the documents the state file no longer knows (deleted, purged, never acknowledged): called by
        a full run before it crawls, so the memo stays the size of the site. (``items`` is crawler.state's.)"""
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute(
                    "DELETE FROM language_memo WHERE scope=? AND NOT EXISTS (SELECT 1 FROM items i"
                    " WHERE i.scope=language_memo.scope AND i.document_id=language_memo.document_id)",
                    (self.scope,),
                )
        except sqlite3.Error as exc:  # a cache: pruned by a later full run
            log.warning("language memo not pruned: %s", exc)

    def flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            with self._db:  # BEGIN here, COMMIT (or ROLLBACK) when the block ends
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO language_memo VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:  # a cache: a lost write only means detecting these texts again next run
            log.warning("language memo not written (%d documents): %s", len(rows), exc)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()
