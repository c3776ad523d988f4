"""The measurement behind the choice of tantivy over SQLite FTS5 for the local search, in one process.

    .venv/bin/python bench/search_engines.py [--items 100000] [--repeat 5]

Both engines index the same items (60 words from a 26-word vocabulary, a title, one rare "topicN" word,
one of 21 permission-body ids), stemmed the same way (FTS5 gets text pre-stemmed by the same Snowball
analyser, since SQLite's own porter tokenizer is English only). Each query is timed with the permission
filter the Search API needs: FTS5 as an ``acl`` column of permission tokens ANDed into MATCH, tantivy as a
term-set query on the body id. "1 body" is a user allowed one body, "21 bodies" one allowed everything.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tantivy

from crawler.localapi.languages import analyzer

WORDS = [chr(c) * 2 + "word" for c in range(ord("a"), ord("z") + 1)]  # 26 distinct words
QUERIES = (("two common words (~80%)", ["aaword", "bbword"]), ("one rare word (0.5%)", ["topic7"]))


def _time(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    fn()  # warm
    times, count = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        count = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    en = analyzer("en")
    docs = [
        (i + 1, f"Document {i} {rng.choice(WORDS)}", " ".join(rng.choices(WORDS, k=60)) + f" topic{i % 200}", i % 21)
        for i in range(args.items)
    ]
    tmp = Path(tempfile.mkdtemp())
    db = sqlite3.connect(tmp / "fts.db", isolation_level=None)
    db.execute("CREATE VIRTUAL TABLE f USING fts5(title, body, acl, tokenize='unicode61 remove_diacritics 2')")
    t0 = time.perf_counter()
    db.execute("BEGIN")
    for rid, title, body, perm in docs:
        stemmed = (" ".join(en.analyze(title)), " ".join(en.analyze(body)))
        db.execute("INSERT INTO f(rowid, title, body, acl) VALUES (?,?,?,?)", (rid, *stemmed, f"zp{perm}"))
    db.execute("COMMIT")
    fts_ingest = time.perf_counter() - t0

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("title", tokenizer_name="stem_en")
    sb.add_text_field("body", tokenizer_name="stem_en")
    sb.add_integer_field("rid", stored=True, indexed=True, fast=True)
    sb.add_integer_field("perm", indexed=True, fast=True)
    schema = sb.build()
    (tmp / "tantivy").mkdir()
    index = tantivy.Index(schema, path=str(tmp / "tantivy"))
    index.register_tokenizer("stem_en", en)
    t0 = time.perf_counter()
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    for rid, title, body, perm in docs:
        writer.add_document(tantivy.Document(title=title, body=body, rid=rid, perm=perm))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    tantivy_ingest = time.perf_counter() - t0
    searcher = index.searcher()

    print(f"items: {args.items:,}; ingest: FTS5 {fts_ingest:.1f} s, tantivy {tantivy_ingest:.1f} s")
    print(f"{'query':28} {'allowed':>10} {'FTS5 ms':>9} {'tantivy ms':>11} {'matches':>8}")
    for label, words in QUERIES:
        for allowed in ([0], list(range(21))):
            terms = " ".join(f'"{w}"' for w in words)
            match = f"({terms}) AND acl:({' OR '.join(f'zp{a}' for a in allowed)})"

            def fts(match: str = match) -> int:
                count = int(db.execute("SELECT count(*) FROM f WHERE f MATCH ?", (match,)).fetchone()[0])
                db.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f, 5.0, 1.0, 0.0) LIMIT 10", (match,))
                return count

            def tan(words: list[str] = words, allowed: list[int] = allowed) -> int:
                clauses = [(tantivy.Occur.Must, index.parse_query(w, ["title", "body"])) for w in words]
                clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "perm", allowed)))
                result = searcher.search(tantivy.Query.boolean_query(clauses), 10, count=True)
                return int(getattr(result, "count", 0) or 0)

            (f_ms, f_n), (t_ms, t_n) = _time(fts, args.repeat), _time(tan, args.repeat)
            assert f_n == t_n, (label, f_n, t_n)
            print(f"{label:28} {len(allowed):>4} bodies {f_ms:9.0f} {t_ms:11.1f} {t_n:8,}")


if __name__ == "__main__":
    main()
