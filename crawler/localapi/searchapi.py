"""Search API subset: ``POST /rest/search/v2`` and ``POST /rest/search/v2/token`` (search as a user).

An API key searches as the anonymous user (only items public by the evaluation of
docs/push-api-contract.md, "Permissions"); a search token searches as
the user it was made for, expanded through groups, aliases and granted identities. Source visibility:
SHARED shows every item to everyone, SECURED evaluates item permissions, PRIVATE hides items from search.
Words are matched in the tantivy index (textindex.py, stemmed per item language), and so are ``aq``'s
exact-value field expressions (``==``, ``<>``, lists, ``@field``: fieldterms.py); the others (contains,
ranges, comparisons) run in SQL (query.py) and reach the index as a row-id set. Each result carries a
Coveo-shaped ``excerpt`` with ``excerptHighlights``. Every bad input is a 400 with a Coveo-style error body.
"""

from __future__ import annotations

import json
import secrets
import sqlite3

import tantivy
from tantivy import Occur
from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONData, JSONObject
from crawler.localapi import excerpt, fieldterms, languages, security
from crawler.localapi.apierror import ApiError, json_response
from crawler.localapi.context import Context, json_body
from crawler.localapi.query import Condition, QuerySyntaxError, parse_conditions, words
from crawler.localapi.store import Store, now_ms
from crawler.localapi.textindex import TextIndex

Clause = tuple[Occur, tantivy.Query]
#: Coveo's own cap on numberOfResults
MAX_RESULTS = 1000
#: deeper than any local index; past it a page is refused (400) rather than overflowing the engine
MAX_FIRST = 1_000_000


def make_token(ctx: Context, request: Request) -> Response:
    body = json_body(request)
    users = body.get("userIds") if isinstance(body, dict) else None
    if not isinstance(users, list) or not users or not all(isinstance(u, dict) and u.get("name") for u in users):
        raise ApiError(400, "INVALID_PARAMETER", "'userIds' must be a non-empty list of {name, provider, type}.")
    token = "x" + secrets.token_urlsafe(24)
    with ctx.store.write() as db:
        db.execute("INSERT INTO tokens VALUES (?,?,?)", (token, json.dumps(users), now_ms()))
    return json_response({"token": token})


def _visibility(db: sqlite3.Connection, index: TextIndex, user_ids: list[JSONObject] | None) -> list[Clause] | None:
    """Index filters (or None: nothing visible) for the items a caller may see.

    Items share permission bodies (table ``perms``), so each distinct body is evaluated once per group of
    sources with the same default provider, and the index filters items by the allowed body ids.
    """
    by_vis: dict[str, list[str]] = {}
    for sid, vis in db.execute("SELECT id, visibility FROM sources"):
        by_vis.setdefault(vis, []).append(sid)
    clauses: list[Clause] = []
    if by_vis.get("PRIVATE"):
        clauses.append((Occur.MustNot, index.term_set("src", by_vis["PRIVATE"])))
    options: list[tantivy.Query] = []
    if by_vis.get("SHARED"):
        options.append(index.term_set("src", by_vis["SHARED"]))
    if user_ids is None:
        options.append(index.term_set("pub", [1]))
    else:
        principal = security.expand(db, user_ids)
        defaults = security.default_providers(db)
        groups: dict[str | None, list[str]] = {}
        for sid in by_vis.get("SECURED", []):
            groups.setdefault(defaults.get(sid), []).append(sid)
        bodies = [(r[0], json.loads(r[1])) for r in db.execute("SELECT pid, body FROM perms")]
        options.append(index.term_set("perm", [-1]))
        for provider, sources in groups.items():
            allowed = [pid for pid, levels in bodies if security.evaluate(levels, principal, provider)]
            if allowed:
                options.append(
                    tantivy.Query.boolean_query(
                        [(Occur.Must, index.term_set("src", sources)), (Occur.Must, index.term_set("perm", allowed))]
                    )
                )
    if not options:
        return None
    clauses.append((Occur.Must, tantivy.Query.boolean_query([(Occur.Should, q) for q in options])))
    return clauses


def _integer(query: JSONObject, key: str, default: int, maximum: int) -> int:
    """A paging parameter: an integer (or its decimal text, as a GET sends it) in 0..maximum, else 400."""
    value = query.get(key, default)
    digits = value.strip().lstrip("+") if isinstance(value, str) else ""
    # isdigit() alone also passes "²", which int() refuses (a 500): ASCII digits only
    if digits.isascii() and digits.isdigit() and len(value) < 20:
        value = int(digits)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "INVALID_PARAMETER", f"'{key}' must be an integer, not {value!r:.40}.")
    if not 0 <= value <= maximum:
        raise ApiError(400, "INVALID_PARAMETER", f"'{key}' must be between 0 and {maximum:,}, not {str(value)[:40]}.")
    return value


def _text(query: JSONObject, key: str) -> str:
    value = query.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, "INVALID_PARAMETER", f"'{key}' must be a string, not {type(value).__name__}.")
    return value


def run(store: Store, query: JSONObject, user_ids: list[JSONObject] | None) -> JSONObject:
    """The search itself, shared by the HTTP route and the Content Browser; ApiError 400 on bad input."""
    q, aq = _text(query, "q"), _text(query, "aq")
    count = _integer(query, "numberOfResults", 10, MAX_RESULTS)
    first = _integer(query, "firstResult", 0, MAX_FIRST)
    try:
        conditions, free = parse_conditions(aq)
    except QuerySyntaxError as exc:
        raise ApiError(400, "INVALID_QUERY_SYNTAX", f"aq: {exc}") from None
    wanted = words(q) + free
    index = store.index
    empty = {"totalCount": 0, "totalCountFiltered": 0, "results": []}
    with store.read() as db:
        filters = _visibility(db, index, user_ids)
        if filters is None:
            return empty
        sql = [c for c in conditions if not _index_filter(index, c, filters)]
        if sql:
            where, params = " AND ".join(c.sql for c in sql), [p for c in sql for p in c.params]
            rids = [r[0] for r in db.execute("SELECT i.rid FROM items i WHERE " + where, params)]
            if not rids:
                return empty
            filters.append((Occur.Must, index.term_set("rid", rids)))
        total, page = index.search(wanted, filters, first, count)
        rows = {
            r["rid"]: r
            for r in db.execute(
                "SELECT i.rid, i.fields, t.lang, t.title, t.body FROM items i JOIN texts t ON t.rid = i.rid"
                " WHERE i.rid IN (SELECT value FROM json_each(?))",
                (json.dumps(page),),
            )
        }
    # an item deleted between the index read and the row read is left out of the page (never an error)
    results = [_result(index, rows[rid], [w for w, _ in wanted]) for rid in page if rid in rows]
    return {"totalCount": total, "totalCountFiltered": total, "results": results}


def _index_filter(index: TextIndex, cond: Condition, filters: list[Clause]) -> bool:
    """Add ``cond`` to ``filters`` as an index query when the index answers it exactly; False when not."""
    clause = fieldterms.condition(index.schema, cond)
    if clause is not None:
        filters.append(clause)
    return clause is not None


def _result(index: TextIndex, row: sqlite3.Row, query_words: list[str]) -> JSONObject:
    fields = json.loads(row["fields"])
    analyzer = index.analyzers.get(row["lang"], index.analyzers[languages.DEFAULT])
    wanted = excerpt.terms(analyzer, query_words)
    text, marks = excerpt.excerpt(row["body"], analyzer, wanted)
    title = fields.get("title")
    return {
        "title": title,
        "uri": fields.get("uri"),
        "printableUri": fields.get("uri"),
        "clickUri": fields.get("clickableuri", fields.get("uri")),
        "uniqueId": str(row["rid"]),
        "excerpt": text,
        "excerptHighlights": marks,
        "titleHighlights": excerpt.highlights(title, analyzer, wanted) if isinstance(title, str) else [],
        "raw": fields,
    }


def search(ctx: Context, request: Request, user_ids: list[JSONObject] | None) -> Response:
    if request.method == "GET":
        query: JSONData = dict(request.args)
    else:
        query = json_body(request) if request.get_data() else {}
    if not isinstance(query, dict):
        raise ApiError(400, "INVALID_JSON", "The search body must be a JSON object.")
    return json_response(run(ctx.store, query, user_ids))
