"""Template rendering for the Content Browser: one Jinja2 environment, autoescaped, and safe headers.

Jinja2 (not f-strings with ``html.escape``): autoescaping makes forgetting an escape impossible, and
templates with inheritance keep the pages' HTML out of the Python that queries the store.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from crawler.localapi.context import Context

TEMPLATES = Path(__file__).parent / "templates"
NAV = (
    ("/", "Sources"),
    ("/browse/search", "Search"),
    ("/browse/identities", "Identities"),
    ("/browse/activity", "Activity log"),
    ("/browse/runs", "Runs"),
    ("/browse/fields", "Fields"),
)
# No inline script or style: the pages load /static/browse.{css,js} only, so an injected <script> cannot run.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self';"
    " connect-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our own login form
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def url(path: str, **params: str | int | None) -> str:
    """``path`` with the non-empty ``params`` as a query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def when(ms: int | float | None) -> str:
    if not ms:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(url=url, nav=NAV)
    env.filters["when"] = when
    env.filters["n"] = lambda value: f"{value:,}"
    return env


# Any: a template's values are whatever its Jinja template reads (rows, pagers, JSON bodies)
def render(ctx: Context, request: Request, template: str, status: int = 200, **values: Any) -> Response:
    html = (
        environment()
        .get_template(template)
        .render(request=request, path=request.path, logged_in=not ctx.auth.dev_mode, **values)
    )
    return Response(html, status=status, mimetype="text/html", headers=HEADERS)


class Pager:
    """Page ``page`` (1-based) of ``total`` rows, ``size`` per page. ``total`` None: not counted yet (a
    filtered view of a large source); call ``shown(n)`` with the rows of the page to offer the next one."""

    def __init__(self, request: Request, total: int | None, size: int = 50) -> None:
        self.total, self.size = total, size
        self.known = total is not None
        self.pages = max(1, -(-total // size)) if total is not None else 10**9
        self.page = min(max(1, request.args.get("page", 1, type=int) or 1), self.pages)
        self.offset = (self.page - 1) * size
        self.first = min(total, self.offset + 1) if total is not None else self.offset + 1
        self.last = min(total, self.offset + size) if total is not None else self.offset + size
        self._args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]  # keeps repeated f=
        self._path = request.path

    def link(self, page: int) -> str:
        pairs = self._args + ([("page", str(page))] if page > 1 else [])
        return self._path + ("?" + urlencode(pairs) if pairs else "")

    def shown(self, rows: int) -> None:
        if not self.known:
            self.last = self.offset + rows
            self.first = min(self.first, self.last)
            self.pages = self.page + 1 if rows == self.size else self.page

    def window(self) -> list[int]:
        """Page numbers to offer: the first, the last, and two either side of the current one."""
        near = range(max(1, self.page - 2), min(self.pages, self.page + 2) + 1)
        return sorted({1, *near} | ({self.pages} if self.known else set()))
