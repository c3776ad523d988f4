"""Search as a user (or anonymously, as an API key searches), with paging and highlighted excerpts.

The search itself is ``searchapi.run``, the code behind ``POST /rest/search/v2``; this page only renders
its results, highlighting ``excerptHighlights``/``titleHighlights`` ([{offset, length}]) when present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi import searchapi
from crawler.localapi.browse.render import Pager, render
from crawler.localapi.security import EMAIL_PROVIDER

if TYPE_CHECKING:
    from crawler.localapi.context import Context

PAGE_SIZE = 20
MAX_PAGE = 50  # the Search API answers at most 1,000 results deep (firstResult + count), as Coveo does


def segments(text: str, highlights: list[JSONObject] | None) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, highlighted) runs; bad or overlapping highlights are skipped, not fatal."""
    out: list[tuple[str, bool]] = []
    pos = 0
    spans = sorted(
        (h["offset"], h["length"])
        for h in highlights or []
        if isinstance(h, dict) and isinstance(h.get("offset"), int) and isinstance(h.get("length"), int)
    )
    for offset, length in spans:
        if offset < pos or length <= 0 or offset + length > len(text):
            continue
        out += [(text[pos:offset], False), (text[offset : offset + length], True)]
        pos = offset + length
    out.append((text[pos:], False))
    return [s for s in out if s[0]]


def search(ctx: Context, request: Request) -> Response:
    q, aq = request.args.get("q", ""), request.args.get("aq", "")
    user = request.args.get("user", "").strip()
    provider = request.args.get("provider", "").strip() or EMAIL_PROVIDER
    page = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)
    user_ids = [{"name": user, "provider": provider, "type": "User"}] if user else None
    query = {"q": q, "aq": aq, "numberOfResults": PAGE_SIZE, "firstResult": (page - 1) * PAGE_SIZE}
    try:
        result = searchapi.run(ctx.store, query, user_ids)
    except (TypeError, ValueError) as exc:  # what the Search API answers 400 for
        return render(ctx, request, "message.html", 400, title="Search", message=f"Invalid search: {exc}")
    rids = [int(r["uniqueId"]) for r in result["results"]]
    with ctx.store.read() as db:
        where = ",".join("?" * len(rids)) or "NULL"
        found = db.execute(
            f"SELECT i.rid, i.source_id, i.document_id, s.name FROM items i JOIN sources s ON s.id = i.source_id"
            f" WHERE i.rid IN ({where})",
            rids,
        ).fetchall()
    where_from = {r["rid"]: r for r in found}
    results = []
    for r in result["results"]:
        home = where_from.get(int(r["uniqueId"]))
        results.append(
            {
                "title": segments(r.get("title") or r.get("uri") or "", r.get("titleHighlights")),
                "uri": r.get("uri") or "",
                "excerpt": segments(r.get("excerpt") or "", r.get("excerptHighlights")),
                "source_id": home["source_id"] if home else "",
                "source_name": home["name"] if home else "",
                "document_id": home["document_id"] if home else r.get("uri"),
            }
        )
    total = int(result["totalCount"])
    pager = Pager(request, min(total, MAX_PAGE * PAGE_SIZE), PAGE_SIZE)
    return render(
        ctx,
        request,
        "search.html",
        title="Search",
        q=q,
        aq=aq,
        user=user,
        provider=provider,
        results=results,
        total=total,
        pager=pager,
        searched="q" in request.args or "aq" in request.args,
    )
