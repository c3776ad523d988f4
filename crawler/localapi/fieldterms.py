"""Item field values in the search index, so exact-value filters and facet counts need no scan of SQLite.

Each indexed item carries four extra index fields (textindex.py adds :func:`entries` to its document):

- ``fl``: a JSON field of the item's field values, lower-cased, as untokenised terms: ``@filetype==pdf`` and
  the Content Browser's facet filters become term queries (Coveo compares string fields case-insensitively);
- ``fv``: the values of the facet fields (:func:`facet_fields`) as they are, as a fast (columnar) field:
  facet counts are a terms aggregation. Only those fields, because a fast field of every value (titles,
  URIs, dates) doubled the indexing cost per item; when the facet fields change, textindex.py re-indexes;
- ``has``: the names of the fields that have a value: ``@field`` (has a value) is a term query;
- ``coll``: the names of the metadata collected but not indexed (no field of that name), as a fast field: the
  Content Browser's "collected, not indexed" counts are a terms aggregation too.

Before this, both went through ``json_each(items.fields)`` for every item of a source: about 1 s of CPU per
filter at 100,000 items (7.5 s under load), and ``aq`` fed tantivy a row-id set of its matches.

A value is indexed as text the way SQLite's ``json_each`` shows it (numbers and booleans included), so a term
query matches what the SQL translation in query.py matches. Values longer than :data:`MAX_VALUE` characters
and object values are left out of ``fl``/``fv``; a condition on such a value falls back to SQL (query.py).
"""

from __future__ import annotations

import json
import re
import sqlite3

import tantivy

from crawler.jsontypes import JSONObject
from crawler.localapi.query import Condition

#: longest value kept as a term (tantivy refuses terms past 64 KB; facets of long texts mean nothing)
MAX_VALUE = 1000
#: a field name usable as a JSON path in the index (Coveo field names: letters, digits, underscores)
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
#: top values fetched per facet before the tie-break by value (aggregation order breaks ties otherwise)
FETCH = 100


#: system fields worth a facet in every source; created fields join when declared ``facet``/``multiValueFacet``
SYSTEM_FACETS = ("filetype", "language", "author", "sourcetype")
MAX_FACETS = 6
#: field name -> usable as a JSON path (NAME), remembered (bounded: names come from pushed metadata)
_NAMES: dict[str, bool] = {}


def facet_fields(db: sqlite3.Connection) -> list[str]:
    names = list(SYSTEM_FACETS)
    for name, spec in db.execute("SELECT name, spec FROM fields WHERE system = 0 ORDER BY name"):
        declared = json.loads(spec)
        if declared.get("facet") or declared.get("multiValueFacet"):
            names.append(name)
    return names[:MAX_FACETS]


def add_schema(sb: tantivy.SchemaBuilder) -> None:
    sb.add_json_field("fl", stored=False, tokenizer_name="raw", index_option="basic")
    sb.add_json_field("fv", stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("has", stored=False, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("coll", stored=False, fast=True, tokenizer_name="raw", index_option="basic")


def _text(value: object) -> str | None:
    """A scalar as SQLite's json_each value reads as text (true -> "1"), None for what is not a term."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and len(value) <= MAX_VALUE:
        return value
    return None


def entries(fields: JSONObject, collected: str, facets: set[str]) -> JSONObject:
    """The index entries of an item's field values (``fl``, ``has``; those of ``facets`` also in ``fv``) and of
    its collected-only metadata (``collected``: the stored JSON text), to merge into its JSON document.

    Built as plain lists and dicts for ``IndexWriter.add_json`` (textindex.py): one JSON text parsed in Rust
    costs about half of what a ``tantivy.Document`` fed value by value from Python did (bench/RESULTS.md).
    A single value goes in as a scalar, several as a list: tantivy indexes a JSON array as its elements, so
    the terms are the same, and the scalar is cheaper to build, encode and parse."""
    has: list[str] = []
    exact: JSONObject = {}
    faceted: JSONObject = {}
    for name, value in fields.items():
        ok = _NAMES.get(name)
        if ok is None:  # field names repeat item after item: match each once
            ok = NAME.match(name) is not None
            if len(_NAMES) < 10_000:
                _NAMES[name] = ok
        if value is None or not ok:
            continue
        has.append(name)
        kind = type(value)
        if kind is str:  # most values: the short way, same result as _text
            if len(value) <= MAX_VALUE:
                exact[name] = value.lower()
                if name in facets:
                    faceted[name] = value
            continue
        if kind is int:
            exact[name] = text = repr(value)
            if name in facets:
                faceted[name] = text
            continue
        if kind is list:
            values = [t for v in value if (t := _text(v)) is not None]
        else:
            t = _text(value)
            values = [] if t is None else [t]
        if values:
            exact[name] = [v.lower() for v in values]
            if name in facets:
                faceted[name] = values
    out: JSONObject = {"has": has, "fl": exact, "fv": faceted}
    if collected != "{}":
        out["coll"] = list(json.loads(collected))
    return out


def equals(schema: tantivy.Schema, name: str, values: list[str]) -> tantivy.Query | None:
    """Items whose field ``name`` holds one of ``values`` (case-insensitive); None when the index cannot
    answer it exactly (a name that is not a path, or a value too long to be a term)."""
    if not NAME.match(name) or any(len(v) > MAX_VALUE for v in values):
        return None
    return tantivy.Query.term_set_query(schema, f"fl.{name}", [v.lower() for v in values])


def exists(schema: tantivy.Schema, name: str) -> tantivy.Query:
    return tantivy.Query.term_query(schema, "has", name)


def condition(schema: tantivy.Schema, cond: Condition) -> tuple[tantivy.Occur, tantivy.Query] | None:
    """An ``aq`` condition as an index clause, or None when only its SQL answers it exactly."""
    if cond.kind == "exists" and NAME.match(cond.name):
        return tantivy.Occur.Must, exists(schema, cond.name)
    if cond.kind in ("equals", "differs"):
        q = equals(schema, cond.name, cond.values)
        if q is not None:
            return (tantivy.Occur.Must if cond.kind == "equals" else tantivy.Occur.MustNot), q
    return None


def facets(searcher: tantivy.Searcher, query: tantivy.Query, names: list[str], top: int) -> JSONObject:
    """{field: {"values": [(value, count)...] most frequent first, ties by value, "distinct": n}} over the
    items ``query`` matches, for the fields that have values there."""
    names = [n for n in names if NAME.match(n)]
    if not names:
        return {}
    spec: JSONObject = {}
    for n in names:
        # segment_size: each segment's candidate list; at least the wanted size keeps the top counts exact
        spec[f"t_{n}"] = {"terms": {"field": f"fv.{n}", "size": FETCH, "segment_size": 10 * FETCH}}
        spec[f"c_{n}"] = {"cardinality": {"field": f"fv.{n}"}}
    result = searcher.aggregate(query, spec)
    out: JSONObject = {}
    for n in names:
        buckets = [(str(b["key"]), int(b["doc_count"])) for b in result.get(f"t_{n}", {}).get("buckets", [])]
        if not buckets:
            continue
        buckets.sort(key=lambda kv: (-kv[1], kv[0]))
        distinct = max(round(result.get(f"c_{n}", {}).get("value") or 0), len(buckets))
        out[n] = {"values": buckets[:top], "distinct": distinct}
    return out


def collected(searcher: tantivy.Searcher, query: tantivy.Query) -> list[tuple[str, int]]:
    """(metadata name, items) of the collected-only metadata of the items ``query`` matches, by name."""
    spec = {"c": {"terms": {"field": "coll", "size": 10_000, "segment_size": 10_000}}}
    buckets = searcher.aggregate(query, spec).get("c", {}).get("buckets", [])
    return sorted((str(b["key"]), int(b["doc_count"])) for b in buckets)
