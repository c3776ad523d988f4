"""The local search index: tantivy, kept in step with the SQLite store through an outbox.

Why tantivy rather than SQLite FTS5 (measured side by side, see bench/RESULTS.md): a query matching 80% of
100,000 items, filtered by permissions, took ~3 s in FTS5 (BM25 over every match, then an OR of permission
tokens) and ~60 ms in tantivy (block-max WAND top-k, a term-set filter on the permission-body id); tantivy
also ships Snowball stemmers for the languages Coveo stems, and its raw indexing is faster
(bench/search_engines.py; end to end, ingest is not yet faster than before: see bench/RESULTS.md).

SQLite stays the only truth. Every change to an item adds its row id to ``search_outbox`` in the same
transaction; the worker's indexer thread drains the outbox into tantivy (delete + re-add by row id, commit) and only
then removes the entries it indexed, so a crash in between re-indexes them — idempotent. A missing, corrupt
or older-schema index is rebuilt from SQLite on open. ``Store.pending()`` counts the outbox, so
``wait_idle()`` means "searchable".
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import tantivy

from crawler.jsontypes import JSONObject
from crawler.localapi import fastjson, fieldterms, languages


class Store(Protocol):
    """What the index needs of crawler.localapi.store.Store (which owns the index): its connections. A
    protocol, so the two modules do not import each other."""

    def read(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def write(self) -> AbstractContextManager[sqlite3.Connection]: ...


log = logging.getLogger(__name__)

#: bump when the schema or the analysers change: the index is then rebuilt from SQLite on open
VERSION = "2"  # 2: item field values (fieldterms.py)
#: outbox entries indexed per tantivy commit
SYNC_CHUNK = 5000
TITLE_BOOST = 5.0


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("rid", stored=True, indexed=True, fast=True)
    sb.add_text_field("src", stored=False, tokenizer_name="raw")
    sb.add_integer_field("perm", indexed=True, fast=True)  # the item's permission body id, -1 for none
    sb.add_integer_field("pub", indexed=True)  # 1 when the anonymous user may see it
    sb.add_integer_field("upd", fast=True)  # updated_ms: the order of an empty query
    for lang in languages.CODES:
        sb.add_text_field(f"title_{lang}", tokenizer_name=f"stem_{lang}")
        sb.add_text_field(f"body_{lang}", tokenizer_name=f"stem_{lang}")
    fieldterms.add_schema(sb)
    return sb.build()


class TextIndex:
    def __init__(self, path: Path, store: Store) -> None:
        self.path = path
        self.store = store
        self.schema = _schema()
        self.analyzers = {lang: languages.analyzer(lang) for lang in languages.CODES}
        self._lock = threading.Lock()  # one writer, and a consistent reload
        self._writer: tantivy.IndexWriter | None = None
        self._top: int | None = None  # the highest row id the index may hold (_index_rows), read once on use
        #: moves with every commit: caches of index answers (the Content Browser's summaries) key on it
        self.generation = 0
        self.index = self._open()
        self.present: set[str] = self._languages_present()
        self._facets()  # an index built with other facet fields is queued for re-indexing before anyone reads

    # -- opening ------------------------------------------------------------------------------------------
    def _open(self) -> tantivy.Index:
        marker = self.path / "pushcrawl-version"
        fresh = not (marker.exists() and marker.read_text() == VERSION)
        if not fresh:
            try:
                index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
            except (ValueError, OSError) as exc:
                log.warning("search index %s unreadable (%s): rebuilding it from the store", self.path, exc)
                fresh = True
        if fresh:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir(parents=True)
            index = tantivy.Index(self.schema, path=str(self.path))
            with self.store.write() as db:  # every item goes through the outbox again
                db.execute("INSERT INTO search_outbox(rid) SELECT rid FROM items")
                facets = fieldterms.facet_fields(db)
            (self.path / "pushcrawl-facets").write_text(json.dumps(facets))
            marker.write_text(VERSION)
        for lang, analyzer in self.analyzers.items():
            index.register_tokenizer(f"stem_{lang}", analyzer)
        return index

    def _languages_present(self) -> set[str]:
        with self.store.read() as db:
            return {r[0] for r in db.execute("SELECT DISTINCT lang FROM texts")} or {languages.DEFAULT}

    # -- writing (worker thread) ----------------------------------------------------------------------------
    def _facets(self) -> set[str]:
        """The facet fields; when they differ from those the index was built with, every item is queued for
        re-indexing (facet values are kept for facet fields only, fieldterms.py)."""
        marker = self.path / "pushcrawl-facets"
        with self.store.read() as db:
            names = fieldterms.facet_fields(db)
        if not marker.exists() or json.loads(marker.read_text()) != names:
            with self.store.write() as db:
                db.execute("INSERT INTO search_outbox(rid) SELECT rid FROM items")
            marker.write_text(json.dumps(names))
        return set(names)

    def sync(self, minimum: int = 1) -> int:
        """Index what the outbox lists, one commit per chunk of up to SYNC_CHUNK entries, as long as a chunk
        has at least ``minimum`` entries; the number of entries done."""
        done = 0
        facets = self._facets()  # first: a change of the facet fields queues every item again
        while True:
            with self.store.read() as db:
                # a whole chunk there yet? SQLite counts, no rows fetched: while operations are due, the indexer
                # asks several times a second, and fetching a part-filled chunk each time was a fifth of its work
                nth = db.execute("SELECT 1 FROM search_outbox ORDER BY seq LIMIT 1 OFFSET ?", (minimum - 1,))
                if nth.fetchone() is None:
                    return done
            with self.store.read() as db:
                rows = db.execute("SELECT seq, rid FROM search_outbox ORDER BY seq LIMIT ?", (SYNC_CHUNK,)).fetchall()
                if not rows:
                    return done
                rids = sorted({r[1] for r in rows})
                # read row by row while indexing: a chunk's texts (~10 MB for 5,000 items) are never all held
                items = db.execute(
                    "SELECT i.rid, i.source_id, i.perm_id, i.public, i.updated_ms, i.fields, i.collected,"
                    " t.lang, t.title, t.body FROM items i JOIN texts t ON t.rid = i.rid"
                    " WHERE i.rid IN (SELECT value FROM json_each(?))",
                    (json.dumps(rids),),
                )
                self._index_rows(rids, items, facets)
            with self.store.write() as db:
                db.execute("DELETE FROM search_outbox WHERE seq <= ?", (rows[-1][0],))
            done += len(rows)

    def _index_rows(self, rids: list[int], items: sqlite3.Cursor, facets: set[str]) -> None:
        """Replace the documents of ``rids`` by ``items`` (a cursor, read as it goes) in one commit."""
        with self._lock:
            if self._writer is None:
                self._writer = self.index.writer(heap_size=64_000_000, num_threads=1)
            writer = self._writer
            if self._top is None:
                self._top = self._highest_rid()
            for rid in rids:
                # a row id above every one the index ever held has nothing to delete: during an ingest of new
                # items that is every one, and each delete is a term lookup in every segment at commit
                if rid <= self._top:
                    writer.delete_documents_by_term("rid", rid)
            self._top = max(self._top, rids[-1]) if rids else self._top  # before adding: never too low
            present, entries = self.present, fieldterms.entries
            for rid, source_id, perm_id, public, updated_ms, fields, collected, lang, title, body in items:
                present.add(lang)
                # one JSON text per item, parsed by tantivy in Rust (fieldterms.entries says why)
                doc = entries(fastjson.decode(fields), collected, facets)
                doc["rid"] = rid
                doc["src"] = source_id
                doc["perm"] = -1 if perm_id is None else perm_id
                doc["pub"] = public
                doc["upd"] = updated_ms
                doc[f"title_{lang}"] = title
                doc[f"body_{lang}"] = body
                writer.add_json(fastjson.encode(doc))  # no float in it: msgspec's text is json's
            writer.commit()
            self.index.reload()
            self.generation += 1

    def _highest_rid(self) -> int:
        """The highest row id in the index (0 when empty): what may need deleting before a re-add."""
        self.index.reload()
        searcher = self.index.searcher()
        hits = searcher.search(tantivy.Query.all_query(), 1, order_by_field="rid").hits
        values = searcher.fast_field_values("rid", [addr for _, addr in hits])
        return int(values[0]) if values and values[0] is not None else 0

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None

    # -- reading (any thread) -------------------------------------------------------------------------------
    def word_query(self, word: str, phrase: bool) -> tantivy.Query | None:
        """One query word (or quoted phrase) against the title and body of every language present, each
        stemmed by that language's analyser; None when no analyser keeps a token of it."""
        options: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for lang in sorted(self.present):
            tokens = self.analyzers[lang].analyze(word)
            if not tokens:
                continue
            for name, boost in ((f"title_{lang}", TITLE_BOOST), (f"body_{lang}", 1.0)):
                if len(tokens) == 1:
                    q = tantivy.Query.term_query(self.schema, name, tokens[0])
                elif phrase:
                    q = tantivy.Query.phrase_query(self.schema, name, list[str | tuple[int, str]](tokens))
                else:
                    q = tantivy.Query.boolean_query(
                        [(tantivy.Occur.Must, tantivy.Query.term_query(self.schema, name, t)) for t in tokens]
                    )
                options.append((tantivy.Occur.Should, tantivy.Query.boost_query(q, boost) if boost != 1 else q))
        return tantivy.Query.boolean_query(options) if options else None

    def search(
        self, words: list[tuple[str, bool]], filters: list[tuple[tantivy.Occur, tantivy.Query]], first: int, count: int
    ) -> tuple[int, list[int]]:
        """(total matches, row ids of the page): ``words`` all required, ranked by BM25, or newest first."""
        clauses = list(filters)
        for word, phrase in words:
            q = self.word_query(word, phrase)
            if q is not None:
                clauses.append((tantivy.Occur.Must, q))
        if not any(occur == tantivy.Occur.Must for occur, _ in clauses):
            clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        query = tantivy.Query.boolean_query(clauses)
        searcher = self.index.searcher()
        # tantivy refuses a limit of 0 (a Rust panic): numberOfResults=0 asks for the count only
        limit = max(count, 1)
        if words:
            result = searcher.search(query, limit, count=True, offset=first)
        else:
            result = searcher.search(query, limit, count=True, order_by_field="upd", offset=first)
        # row ids from the fast (columnar) field: a stored-document read decompresses a whole block per hit
        addrs = [addr for _, addr in result.hits][:count]
        rids = [int(v) for v in searcher.fast_field_values("rid", addrs) if v is not None] if addrs else []
        total: int | None = getattr(result, "count", None)  # absent from tantivy's type stubs
        return int(total or 0), rids

    def count(self, query: tantivy.Query) -> int:
        result = self.index.searcher().search(query, 1, count=True)
        return int(getattr(result, "count", 0) or 0)

    def row_ids(self, query: tantivy.Query, limit: int) -> list[int]:
        """The row ids of up to ``limit`` matches, in no particular order (read from the fast field)."""
        searcher = self.index.searcher()
        hits = searcher.search(query, max(limit, 1)).hits
        return [int(v) for v in searcher.fast_field_values("rid", [addr for _, addr in hits]) if v is not None]

    def facets(self, query: tantivy.Query, names: list[str], top: int) -> JSONObject:
        return fieldterms.facets(self.index.searcher(), query, names, top)

    def collected(self, query: tantivy.Query) -> list[tuple[str, int]]:
        return fieldterms.collected(self.index.searcher(), query)

    def term_set(self, field: str, values: Sequence[str | int]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, field, values)
