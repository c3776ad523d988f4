"""Content Browser routes: which page answers which path (the pages live in ``crawler.localapi.browse``).

Pages: sources; a source's items (paging, sort, facets, filters) and its collected-but-not-indexed
metadata; one item with its fields, metadata, text and why a user can or cannot see it; identity providers
and identities; the activity log; fields; search as a chosen identity (or anonymously, as an API key
searches); the crawler's runs. With API keys configured every page needs a ``view`` key (browse/login.py).

The pages' modules (and Jinja2, which they render with) are imported on the first request for a page, not
with the server: every ``pushcrawl crawl`` into a ``kind: local`` target starts this server and never serves a
page, and the import cost it ~10 MB of memory (tests/localapi/test_browser_lazy.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from crawler.localapi.context import Context

#: path → "module.function" under crawler.localapi.browse
PAGES = {
    "/": "sources.index",
    "/browse/sources/<source_id>": "sources.source_items",
    "/browse/sources/<source_id>/summary": "sources.source_summary",
    "/browse/item": "item.item",
    "/browse/identities": "lists.identities",
    "/browse/activity": "lists.activity",
    "/browse/fields": "lists.fields",
    "/browse/search": "searchpage.search",
    "/browse/runs": "runs.runs",
    "/browse/runs/<run_id>": "runs.run",
}


def page(name: str) -> Callable[..., Response]:
    """The handler ``name`` ("module.function" under crawler.localapi.browse), loaded when first called; after
    that the import is a look-up in ``sys.modules``."""
    module, function = name.rsplit(".", 1)

    # Any-free: werkzeug passes the route's values (source_id, run_id) as keyword arguments
    def handler(ctx: Context, request: Request, **values: str) -> Response:
        found: Callable[..., Response] = getattr(importlib.import_module(f"crawler.localapi.browse.{module}"), function)
        return found(ctx, request, **values)

    handler.__name__ = function
    return handler


STATIC = Path(__file__).parent / "browse" / "static"
MIME = {".css": "text/css", ".js": "text/javascript"}


def static(ctx: Context, request: Request, name: str) -> Response:
    """The pages' stylesheet and script (public: they hold no data)."""
    path = STATIC / name
    if "/" in name or path.suffix not in MIME or not path.is_file():
        return Response("not found", status=404, mimetype="text/plain")
    return Response(path.read_bytes(), mimetype=MIME[path.suffix], headers={"Cache-Control": "max-age=300"})
