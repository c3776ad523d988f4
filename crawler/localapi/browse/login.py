"""Logging a browser in to the Content Browser when the server has API keys (issue 17).

``GET /login`` shows a form for a key with the ``view`` scope (or takes ``?once=`` from the one-time link
``pushcrawl serve`` prints); ``POST /login`` checks the key and sets an HttpOnly, SameSite=Strict session
cookie; ``POST /logout`` forgets the session. POSTs from another origin are refused (login CSRF), and the
``next`` page must be a local path so the form cannot redirect elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from crawler.localapi.apierror import ApiError
from crawler.localapi.auth import SESSION_COOKIE, SESSION_TTL_S
from crawler.localapi.browse.render import render, url

if TYPE_CHECKING:
    from crawler.localapi.context import Context


def _next(raw: str | None) -> str:
    """A local path to go to after login; anything else (``//evil``, ``https://...``) becomes ``/``."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw or urlsplit(raw).netloc:
        return "/"
    return raw


def check(ctx: Context, request: Request) -> Response | None:
    """None when the request may see a Content Browser page, else the response to send instead."""
    try:
        ctx.auth.require(ctx.auth.page_caller(request), "search")
    except ApiError as exc:
        if exc.status == 401:
            return redirect(url("/login", next=request.full_path.rstrip("?")), 303)
        return render(ctx, request, "login.html", 403, error=exc.message + " Log in with a key that has 'view'.")
    return None


def _signed_in(session: str, target: str) -> Response:
    response = redirect(_next(target), 303)
    response.set_cookie(SESSION_COOKIE, session, max_age=int(SESSION_TTL_S), path="/", httponly=True, samesite="Strict")
    return response


def form(ctx: Context, request: Request) -> Response:
    once = request.args.get("once")
    if once:
        try:
            return _signed_in(ctx.auth.open_session(once=once), request.args.get("next", "/"))
        except ApiError as exc:
            return render(ctx, request, "login.html", exc.status, error=exc.message, next=request.args.get("next"))
    return render(ctx, request, "login.html", next=request.args.get("next"))


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None  # "null" is what a sandboxed or cross-site-redirected form sends
    return urlsplit(origin).netloc == request.host


def submit(ctx: Context, request: Request) -> Response:
    target = request.form.get("next", "/")
    if not _same_origin(request):
        return render(ctx, request, "login.html", 403, error="Cross-origin login refused.", next=target)
    if ctx.auth.dev_mode:
        return redirect(_next(target), 303)
    try:
        return _signed_in(ctx.auth.open_session(key=request.form.get("key", "").strip()), target)
    except ApiError as exc:
        return render(ctx, request, "login.html", exc.status, error=exc.message, next=target)


def logout(ctx: Context, request: Request) -> Response:
    if not _same_origin(request):
        return render(ctx, request, "login.html", 403, error="Cross-origin logout refused.")
    ctx.auth.close_session(request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
