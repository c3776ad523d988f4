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


def run(store: Store, query: dict[str, Any], user_ids: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The search itself, shared by the HTTP route and the Content Browser."""
    q = str(query.get("q") or "")
    aq = str(query.get("aq") or "")
    count = max(0, min(int(query.get("numberOfResults", 10)), 1000))
    first = max(0, int(query.get("firstResult", 0)))
    where, params, words = aq_sql(aq)
    match = fts_match(f"{q} {words}")
    sql = (
        "SELECT i.rid, i.source_id, i.permissions, i.public, s.visibility FROM items i"
        " JOIN sources s ON s.id = i.source_id"
    )
    args: list[Any] = []
    if match:
        sql += " JOIN items_fts f ON f.rowid = i.rid"
        where.insert(0, "items_fts MATCH ?")
        args.append(match)
    where.append("s.visibility != 'PRIVATE'")
    if user_ids is None:
        where.append("(s.visibility = 'SHARED' OR i.public = 1)")
    sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY bm25(items_fts, 5.0, 1.0), i.rid" if match else " ORDER BY i.updated_ms DESC, i.rid DESC"
    with store.read() as db:
        rows = db.execute(sql, [*args, *params]).fetchall()
        if user_ids is not None:
            principal = security.expand(db, user_ids)
            providers = security.default_providers(db)
            cache: dict[tuple[str | None, str | None], bool] = {}

            def visible(row: Any) -> bool:
                if row["visibility"] == "SHARED" or row["permissions"] is None:
                    return True
                key = (row["permissions"], providers.get(row["source_id"]))
                if key not in cache:
                    cache[key] = security.evaluate(json.loads(row["permissions"]), principal, key[1])
                return cache[key]

            rows = [r for r in rows if visible(r)]
        page = [r["rid"] for r in rows[first : first + count]]
        results = [_result(db, rid, match) for rid in page]
    return {"totalCount": len(rows), "totalCountFiltered": len(rows), "results": results}


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
