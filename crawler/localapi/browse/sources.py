"""The sources page and a source's items: paging with counts, sort, facet filters, an ``aq`` filter box.

A source's page answers from indexes only: rows in the sort's order from SQLite's sort indexes, and the
summary (filtered count, facets) from the search index (fieldterms.py: term queries and a terms
aggregation, a few ms at 100,000 items). A small filtered set's rows are read by the row ids the index gives,
so any page of it is quick. A filter the index cannot answer exactly (free words, which match the stored
text as a substring here, or an ``aq`` range/contains) is counted in SQL instead: a scan, so cached
(facets.py) and, for a source past ``INLINE_LIMIT`` items, served by ``.../summary``, which the page's
script fetches once it has shown the rows.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import tantivy
from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi import fieldterms
from crawler.localapi.apierror import ApiError
from crawler.localapi.browse import facets
from crawler.localapi.browse.render import Pager, render
from crawler.localapi.query import Condition, QuerySyntaxError, parse_conditions
from crawler.localapi.sqltypes import SQLParams

if TYPE_CHECKING:
    from crawler.localapi.context import Context

CACHE = facets.FacetCache()
INLINE_LIMIT = 20_000
# Each sort has an index (source_id, <key>) (sortindex.ensure_indexes), so a page deep in 100,000 items reads 50 rows.
SORTS = {
    "id": ("Document id", "i.document_id"),
    "title": ("Title", "json_extract(i.fields, '$.title') COLLATE NOCASE"),
    "updated": ("Last update", "i.updated_ms"),
    "ordering": ("orderingId", "i.ordering_id"),
}
PAGE_SIZES = (25, 50, 100, 200)
#: a filtered set up to this size is read by row id (any page quick); a larger one by a scan in sort order,
#: whose early pages are quick since most rows match
ROW_SET_LIMIT = 20_000


def index(ctx: Context, request: Request) -> Response:
    with ctx.store.read() as db:
        counts = facets.item_counts(db, str(ctx.store.path))
        rows = db.execute("SELECT * FROM sources ORDER BY created_ms").fetchall()
        sources = [dict(r) | {"items": counts.get(r["id"], 0)} for r in rows]
        pending = db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
    return render(
        ctx,
        request,
        "sources.html",
        title="Sources",
        sources=sources,
        pending=pending,
        org_id=ctx.org_id,
        push_base=f"{ctx.base_url()}/push/v1/organizations/{ctx.org_id}",
    )


class View:
    """The filtered item set a request asks for: ``tail`` (`` FROM ... WHERE ...``) and its arguments."""

    args: SQLParams

    def __init__(self, request: Request, source_id: str, schema: tantivy.Schema) -> None:
        self.source_id = source_id
        self.chosen = facets.parse_filters(request.args.getlist("f"))
        self.aq = request.args.get("aq", "").strip()
        where, params = facets.filter_sql(self.chosen)
        conditions, free = parse_conditions(self.aq)  # QuerySyntaxError (a 400) for what aq cannot say
        more, more_params = [c.sql for c in conditions], [p for c in conditions for p in c.params]
        self.query = None if free else _index_query(schema, source_id, self.chosen, conditions)
        joins, conds, self.args = " FROM items i", ["i.source_id = ?", *where, *more], [source_id]
        if free:
            # free words inside one source's filter box: a plain substring match on the stored text (the
            # stemmed, ranked search is the Search page's, through the search index)
            joins += " JOIN texts t ON t.rid = i.rid"
            text = ["(instr(lower(t.title), ?) > 0 OR instr(lower(t.body), ?) > 0)" for _ in free]
            conds[1:1] = text
            for word, _phrase in free:
                self.args += [word.lower(), word.lower()]
        self.args += params + more_params
        self.tail = joins + " WHERE " + " AND ".join(conds)
        self.filtered = len(conds) > 1

    def summary(
        self, ctx: Context, db: sqlite3.Connection, stamp: tuple[int, int | None], compute: bool
    ) -> JSONObject | None:
        """{"total", "facets", "collected", "unindexed"} from the search index, or when the index cannot
        answer the filter from the cache, or computed when ``compute``; else None."""
        names = facets.facet_fields(db)
        if self.query is not None:
            index, query = ctx.store.index, self.query
            whole = tantivy.Query.term_query(index.schema, "src", self.source_id)

            def aggregate() -> JSONObject:
                return {
                    "total": index.count(query) if self.filtered else stamp[0],
                    "facets": index.facets(query, names, facets.TOP_VALUES),
                    "collected": index.collected(whole),
                }

            # aggregations over 100,000 items are most of a page's time: kept until the source changes or
            # the index commits (the index lags the store, so the stamp alone could keep a stale answer)
            view = (str(ctx.store.path), self.source_id, stamp, index.generation, "index", tuple(self.chosen), self.aq)
            summary = dict(CACHE.get_or_compute((*view, tuple(names)), aggregate))
            return summary | {"unindexed": ctx.store.unindexed()}  # counts are the index's: say when it lags
        key = (str(ctx.store.path), self.source_id, stamp, self.tail, tuple(self.args))

        def run() -> JSONObject:
            total, counts = facets.compute(db, names, self.tail, self.args)
            return {"total": total, "facets": counts, "collected": facets.collected(db, self.source_id), "unindexed": 0}

        cached: JSONObject | None = (
            CACHE.get_or_compute((*key, tuple(names)), run) if compute else CACHE.peek((*key, tuple(names)))
        )
        return cached

    def rows_by_id(self, ctx: Context, total: int) -> None:
        """Read a small filtered set by the row ids the search index gives instead of by a scan."""
        if self.query is not None and self.filtered and total <= ROW_SET_LIMIT:
            rids = ctx.store.index.row_ids(self.query, total)
            self.tail, self.args = " FROM items i WHERE i.rid IN (SELECT value FROM json_each(?))", [json.dumps(rids)]


def _index_query(
    schema: tantivy.Schema, source_id: str, chosen: list[tuple[str, str]], conditions: list[Condition]
) -> tantivy.Query | None:
    """The view as a search-index query, or None when part of it only has an exact answer in SQL."""
    clauses = [(tantivy.Occur.Must, tantivy.Query.term_query(schema, "src", source_id))]
    for name, value in chosen:
        q = fieldterms.equals(schema, name, [value])
        if q is None:
            return None
        clauses.append((tantivy.Occur.Must, q))
    for cond in conditions:
        clause = fieldterms.condition(schema, cond)
        if clause is None:
            return None
        clauses.append(clause)
    return tantivy.Query.boolean_query(clauses)


def _args(request: Request) -> tuple[str, bool, int]:
    sort = request.args.get("sort", "id")
    size = request.args.get("size", 50, type=int) or 50
    return (sort if sort in SORTS else "id"), request.args.get("dir") == "desc", size if size in PAGE_SIZES else 50


def source_items(ctx: Context, request: Request, source_id: str) -> Response:
    source = ctx.store.source(source_id)
    if source is None:
        return render(ctx, request, "message.html", 404, title="Unknown source", message=f"No source {source_id}.")
    try:
        view = View(request, source_id, ctx.store.index.schema)
    except QuerySyntaxError as exc:
        return render(ctx, request, "message.html", 400, title="Unsupported filter", message=str(exc))
    sort, descending, size = _args(request)
    try:
        with ctx.store.read() as db:
            stamp = facets.stamp(db, source_id, str(ctx.store.path))
            unfiltered = stamp[0]
            summary = view.summary(ctx, db, stamp, compute=unfiltered <= INLINE_LIMIT)
            total = summary["total"] if summary else None if view.filtered else unfiltered
            if total is not None:
                view.rows_by_id(ctx, total)
            pager = Pager(request, total, size)
            way = "DESC" if descending else "ASC"
            rows = db.execute(
                "SELECT i.document_id, i.ordering_id, i.fields, i.public, i.updated_ms"
                + view.tail
                + f" ORDER BY {SORTS[sort][1]} {way}, i.rid {way} LIMIT ? OFFSET ?",
                [*view.args, pager.size, pager.offset],
            ).fetchall()
    except sqlite3.Error as exc:  # an aq the SQL translation could not express
        raise ApiError(400, "INVALID_FILTER", f"Cannot filter with {view.aq!r}: {exc}") from exc
    pager.shown(len(rows))
    items = [dict(r) | {"fields": json.loads(r["fields"])} for r in rows]
    here = [("aq", view.aq), ("sort", "" if sort == "id" else sort), ("dir", "desc" if descending else "")]
    here.append(("size", "" if size == 50 else str(size)))
    return render(
        ctx,
        request,
        "source.html",
        title=f"Source {source['name']}",
        source=source,
        items=items,
        pager=pager,
        summary=summary,
        summary_url=request.path.rstrip("/") + "/summary?" + request.query_string.decode(),
        chosen=view.chosen,
        aq=view.aq,
        sort=sort,
        sorts=SORTS,
        descending=descending,
        size=size,
        sizes=PAGE_SIZES,
        **_filter_links(request.path, here, view.chosen),
    )


def _filter_links(path: str, here: list[tuple[str, str]], chosen: list[tuple[str, str]]) -> JSONObject:
    def with_filters(new: list[tuple[str, str]]) -> str:
        """This page's URL (page 1) with the facet filters ``new`` instead of the current ones."""
        pairs = [(k, v) for k, v in here if v] + [("f", f"{n}:{v}") for n, v in new]
        return path + ("?" + urlencode(pairs) if pairs else "")

    return {
        "add_filter": lambda name, value: with_filters([*chosen, (name, value.lower())]),
        "drop_filter": lambda pair: with_filters([c for c in chosen if c != pair]),
    }


def source_summary(ctx: Context, request: Request, source_id: str) -> Response:
    """The summary fragment (count, facets, collected metadata) the source page's script puts in place."""
    if ctx.store.source(source_id) is None:
        return render(ctx, request, "message.html", 404, title="Unknown source", message=f"No source {source_id}.")
    try:
        view = View(request, source_id, ctx.store.index.schema)
    except QuerySyntaxError as exc:
        return render(ctx, request, "message.html", 400, title="Unsupported filter", message=str(exc))
    sort, descending, size = _args(request)
    with ctx.store.read() as db:
        summary = view.summary(ctx, db, facets.stamp(db, source_id, str(ctx.store.path)), compute=True)
    here = [("aq", view.aq), ("sort", "" if sort == "id" else sort), ("dir", "desc" if descending else "")]
    here.append(("size", "" if size == 50 else str(size)))
    return render(
        ctx,
        request,
        "summary.html",
        summary=summary,
        chosen=view.chosen,
        **_filter_links(request.path.removesuffix("/summary"), here, view.chosen),
    )
