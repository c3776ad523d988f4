"""Search API subset: ``POST /rest/search/v2`` and ``POST /rest/search/v2/token`` (search as a user).

An API key searches as the anonymous user (only items public by §4 evaluation); a search token searches as
the user it was made for, expanded through groups, aliases and granted identities. Source visibility:
SHARED shows every item to everyone, SECURED evaluates item permissions, PRIVATE hides items from search.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from werkzeug.wrappers import Request, Response

from crawler.localapi import security
from crawler.localapi.apierror import ApiError, json_response
from crawler.localapi.context import Context, json_body
from crawler.localapi.query import aq_sql, fts_match
from crawler.localapi.store import Store, now_ms


def make_token(ctx: Context, request: Request) -> Response:
    body = json_body(request)
    users = body.get("userIds") if isinstance(body, dict) else None
    if not isinstance(users, list) or not users or not all(isinstance(u, dict) and u.get("name") for u in users):
        raise ApiError(400, "INVALID_PARAMETER", "'userIds' must be a non-empty list of {name, provider, type}.")
    token = "x" + secrets.token_urlsafe(24)
    with ctx.store.write() as db:
        db.execute("INSERT INTO tokens VALUES (?,?,?)", (token, json.dumps(users), now_ms()))
    return json_response({"token": token})


def _allowed(db: Any, user_ids: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """SQL condition (and its parameters) for the items a user may see.

    Items share permission bodies (table ``perms``), so each distinct body is evaluated once per group of
    sources with the same default provider, and the database filters items by the allowed body ids.
    """
    principal = security.expand(db, user_ids)
    defaults = security.default_providers(db)
    groups: dict[str | None, list[str]] = {}
    for (sid,) in db.execute("SELECT id FROM sources WHERE visibility = 'SECURED'"):
        groups.setdefault(defaults.get(sid), []).append(sid)
    bodies = [(r[0], json.loads(r[1])) for r in db.execute("SELECT pid, body FROM perms")]
    parts = ["s.visibility = 'SHARED'", "i.perm_id IS NULL"]
    params: list[Any] = []
    for provider, sources in groups.items():
        allowed = [pid for pid, levels in bodies if security.evaluate(levels, principal, provider)]
        parts.append(
            "(i.source_id IN (SELECT value FROM json_each(?)) AND i.perm_id IN (SELECT value FROM json_each(?)))"
        )
        params += [json.dumps(sources), json.dumps(allowed)]
    return "(" + " OR ".join(parts) + ")", params


def run(store: Store, query: dict[str, Any], user_ids: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The search itself, shared by the HTTP route and the Content Browser."""
    q = str(query.get("q") or "")
    aq = str(query.get("aq") or "")
    count = max(0, min(int(query.get("numberOfResults", 10)), 1000))
    first = max(0, int(query.get("firstResult", 0)))
    where, params, words = aq_sql(aq)
    match = fts_match(f"{q} {words}")
    joins = " FROM items i JOIN sources s ON s.id = i.source_id"
    args: list[Any] = []
    if match:
        joins += " JOIN items_fts f ON f.rowid = i.rid"
        where.insert(0, "items_fts MATCH ?")
        args.append(match)
    where.append("s.visibility != 'PRIVATE'")
    with store.read() as db:
        if user_ids is None:
            where.append("(s.visibility = 'SHARED' OR i.public = 1)")
        else:
            condition, extra = _allowed(db, user_ids)
            where.append(condition)
            params += extra
        tail = joins + " WHERE " + " AND ".join(where)
        total = db.execute("SELECT COUNT(*)" + tail, [*args, *params]).fetchone()[0]
        order = " ORDER BY bm25(items_fts, 5.0, 1.0), i.rid" if match else " ORDER BY i.updated_ms DESC, i.rid DESC"
        page = [
            r[0]
            for r in db.execute("SELECT i.rid" + tail + order + " LIMIT ? OFFSET ?", [*args, *params, count, first])
        ]
        results = [_result(db, rid, match) for rid in page]
    return {"totalCount": total, "totalCountFiltered": total, "results": results}


def _result(db: Any, rid: int, match: str | None) -> dict[str, Any]:
    if match:
        row = db.execute(
            "SELECT i.fields, snippet(items_fts, 1, '', '', '…', 24) AS excerpt FROM items i"
            " JOIN items_fts f ON f.rowid = i.rid WHERE i.rid = ? AND items_fts MATCH ?",
            (rid, match),
        ).fetchone()
    else:
        row = db.execute(
            "SELECT i.fields, substr(f.body, 1, 200) AS excerpt FROM items i"
            " JOIN items_fts f ON f.rowid = i.rid WHERE i.rid = ?",
            (rid,),
        ).fetchone()
    fields = json.loads(row["fields"])
    return {
        "title": fields.get("title"),
        "uri": fields.get("uri"),
        "printableUri": fields.get("uri"),
        "clickUri": fields.get("clickableuri", fields.get("uri")),
        "uniqueId": str(rid),
        "excerpt": row["excerpt"] or "",
        "raw": fields,
    }


def search(ctx: Context, request: Request, user_ids: list[dict[str, Any]] | None) -> Response:
    if request.method == "GET":
        query: Any = dict(request.args)
    else:
        query = json_body(request) if request.get_data() else {}
    if not isinstance(query, dict):
        raise ApiError(400, "INVALID_JSON", "The search body must be a JSON object.")
    try:
        return json_response(run(ctx.store, query, user_ids))
    except (TypeError, ValueError) as exc:
        raise ApiError(400, "INVALID_PARAMETER", f"Invalid search parameters: {exc}") from None
