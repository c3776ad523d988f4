"""Content Browser: server-rendered HTML pages over the local index (filled in by a later commit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from crawler.localapi.context import Context


def index(ctx: Context, request: Request) -> Response:
    with ctx.store.read() as db:
        rows = db.execute("SELECT id, name FROM sources ORDER BY created_ms").fetchall()
    items = "".join(f"<li>{r['name']} ({r['id']})</li>" for r in rows)
    return Response(
        f"<!doctype html><title>Local Push API</title><h1>Sources</h1><ul>{items}</ul>", mimetype="text/html"
    )


PAGES: dict[str, Any] = {"/": index}
