"""Unauthenticated JSON routes for tools and tests on the same machine (never faulted).

``GET /local/status`` -> ``{"pending": <queued operations + items not yet indexed>, "items": {sourceId:
count}}``: lets another process wait until everything pushed was applied and is searchable.
``GET /local/activity`` is the activity log as JSON (filters ``target``, ``documentId``, ``outcome``,
``limit``); ``GET /local/item?source=&documentId=`` is one item as stored (fields, collected metadata,
permissions, text), without permission filtering. These are local extensions, not part of Coveo's API.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi.apierror import ApiError, json_response
from crawler.localapi.sqltypes import SQLParams

if TYPE_CHECKING:
    from crawler.localapi.context import Context


def status_body(ctx: Context) -> JSONObject:
    with ctx.store.read() as db:
        pending = ctx.store.pending()  # queued operations and items not yet searchable
        sql = "SELECT id, (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id) FROM sources s"
        counts = {r[0]: r[1] for r in db.execute(sql)}
    return {"pending": pending, "items": counts}


def status(ctx: Context, request: Request) -> Response:
    return json_response(status_body(ctx))


def activity(ctx: Context, request: Request) -> Response:
    sql, args = "SELECT * FROM activity WHERE 1=1", SQLParams()
    for param, column in (("target", "target"), ("documentId", "document_id"), ("outcome", "outcome")):
        if request.args.get(param):
            sql += f" AND {column} = ?"
            args.append(request.args[param])
    limit = min(max(request.args.get("limit", 1000, type=int), 0), 100_000)
    with ctx.store.read() as db:
        rows = db.execute(sql + " ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
    keys = ("id", "ts_ms", "target", "document_id", "operation", "ordering_id", "outcome", "detail")
    return json_response([{k: r[k] for k in keys} for r in rows])


def item(ctx: Context, request: Request) -> Response:
    source, doc_id = request.args.get("source", ""), request.args.get("documentId", "")
    with ctx.store.read() as db:
        row = db.execute(
            "SELECT i.*, f.body FROM items i JOIN items_fts f ON f.rowid = i.rid"
            " WHERE i.source_id = ? AND i.document_id = ?",
            (source, doc_id),
        ).fetchone()
    if row is None:
        raise ApiError(404, "ITEM_NOT_FOUND", f"No item {doc_id!r} in source {source!r}.")
    return json_response(
        {
            "documentId": row["document_id"],
            "orderingId": row["ordering_id"],
            "parentId": row["parent_id"],
            "fields": json.loads(row["fields"]),
            "collectedMetadata": json.loads(row["collected"]),
            "permissions": json.loads(row["permissions"]) if row["permissions"] else None,
            "text": row["body"],
        }
    )


def source_metadata(ctx: Context, request: Request, org: str, source_id: str) -> Response:
    """Platform-style ``GET .../sources/{id}/metadata``: metadata names collected, not mapped to a field."""
    ctx.check_org(org)
    if ctx.store.source(source_id) is None:
        raise ApiError(404, "SOURCE_DOES_NOT_EXIST", f"Source '{source_id}' does not exist.")
    with ctx.store.read() as db:
        rows = db.execute(
            "SELECT j.key AS name, COUNT(*) AS n FROM items i, json_each(i.collected) j"
            " WHERE i.source_id = ? GROUP BY j.key ORDER BY j.key",
            (source_id,),
        ).fetchall()
    return json_response({"collectedNotIndexed": [{"name": r["name"], "itemCount": r["n"]} for r in rows]})
