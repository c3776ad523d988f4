"""One item: its fields, collected metadata, permissions with the why-can/can't walk, and its text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from crawler.localapi.browse import explain
from crawler.localapi.browse.render import render
from crawler.localapi.security import EMAIL_PROVIDER

if TYPE_CHECKING:
    from crawler.localapi.context import Context

TEXT_SHOWN = 50_000  # characters of text on the page; the rest is a count (a 10 MB body would hang the tab)


def item(ctx: Context, request: Request) -> Response:
    source_id, doc_id = request.args.get("source", ""), request.args.get("documentId", "")
    user = request.args.get("user", "").strip()
    provider = request.args.get("provider", "").strip() or EMAIL_PROVIDER
    source = ctx.store.source(source_id)
    with ctx.store.read() as db:
        row = db.execute(
            "SELECT i.*, f.body FROM items i JOIN items_fts f ON f.rowid = i.rid"
            " WHERE i.source_id=? AND i.document_id=?",
            (source_id, doc_id),
        ).fetchone()
        if row is None or source is None:
            message = f"No item {doc_id!r} in source {source_id!r}."
            return render(ctx, request, "message.html", 404, title="Unknown item", message=message)
        levels = json.loads(row["permissions"]) if row["permissions"] else None
        anonymous = explain.walk(db, source, levels, None)
        as_user = explain.walk(db, source, levels, [{"name": user, "provider": provider}]) if user else None
    fields = json.loads(row["fields"])
    body = row["body"] or ""
    return render(
        ctx,
        request,
        "item.html",
        title=fields.get("title") or doc_id,
        source=source,
        row=row,
        doc_id=doc_id,
        fields=sorted(fields.items()),
        collected=sorted(json.loads(row["collected"]).items()),
        levels=levels,
        anonymous=anonymous,
        as_user=as_user,
        user=user,
        provider=provider,
        text=body[:TEXT_SHOWN],
        text_len=len(body),
    )
