"""Content Browser routes: which page answers which path (the pages live in ``crawler.localapi.browse``).

Pages: sources; a source's items (paging, sort, facets, filters) and its collected-but-not-indexed
metadata; one item with its fields, metadata, text and why a user can or cannot see it; identity providers
and identities; the activity log; fields; search as a chosen identity (or anonymously, as an API key
searches); the crawler's runs. With API keys configured every page needs a ``view`` key (browse/login.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi.browse import item, lists, runs, searchpage, sources

if TYPE_CHECKING:
    from crawler.localapi.context import Context

PAGES: JSONObject = {
    "/": sources.index,
    "/browse/sources/<source_id>": sources.source_items,
    "/browse/sources/<source_id>/summary": sources.source_summary,
    "/browse/item": item.item,
    "/browse/identities": lists.identities,
    "/browse/activity": lists.activity,
    "/browse/fields": lists.fields,
    "/browse/search": searchpage.search,
    "/browse/runs": runs.runs,
    "/browse/runs/<run_id>": runs.run,
}

STATIC = Path(__file__).parent / "browse" / "static"
MIME = {".css": "text/css", ".js": "text/javascript"}


def static(ctx: Context, request: Request, name: str) -> Response:
    """The pages' stylesheet and script (public: they hold no data)."""
    path = STATIC / name
    if "/" in name or path.suffix not in MIME or not path.is_file():
        return Response("not found", status=404, mimetype="text/plain")
    return Response(path.read_bytes(), mimetype=MIME[path.suffix], headers={"Cache-Control": "max-age=300"})
