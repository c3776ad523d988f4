"""Crawling behind a login: the ``auth:`` option of the ``web`` and ``sitemap`` connectors.

``options`` (the tagged model: basic, header, cookies, form), ``forms`` (login forms and login walls, shared by
ping and the crawl), ``ping`` (proves the login before a run), ``session`` (the crawl's form login and its
re-login), ``middleware`` (credentials on every request to the site's hosts, none anywhere else, lost sessions
caught), ``browser`` (the same rules for requests Chromium makes when pages are rendered). Below: the
credential helpers they share and ``apply_settings``, which a connector's ``from_crawler`` calls.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from scrapy import Request
from scrapy.crawler import Crawler

from connectors.auth.options import AuthenticatedOptions, AuthOptions, BasicLogin, FormLogin, HeaderLogin
from crawler.errors import ConnectorError
from crawler.jsontypes import JSONObject

__all__ = ["AuthOptions", "AuthenticatedOptions", "apply_settings", "check_ready", "credential_headers", "hosts_of"]

MIDDLEWARE = "connectors.auth.middleware.AuthMiddleware"
#: before the render middleware (100) so rendered requests carry the credentials, and so this one sees a
#: response after it (a login wall met in the browser is retried here after the page is released there)
ORDER = 95


def hostname(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def hosts_of(options: object, auth: AuthOptions) -> frozenset[str]:
    """The hosts credentials may go to: the start and sitemap URLs', the login URL's, and ``auth.hosts``."""
    urls = [*getattr(options, "start_urls", []), *getattr(options, "sitemap_urls", [])]
    if getattr(auth, "login_url", None):
        urls.append(str(getattr(auth, "login_url", "")))
    found = {hostname(u) for u in urls if u.startswith(("http://", "https://"))}
    return frozenset(h for h in found | set(auth.hosts) if h)


def credential_headers(auth: AuthOptions | None) -> dict[str, str]:
    """The headers a basic or header login adds to each request (none for cookies and form logins)."""
    if isinstance(auth, BasicLogin):
        from connectors.http import BasicAuth

        return {"Authorization": BasicAuth(username=auth.username, password=auth.password).header()}
    if isinstance(auth, HeaderLogin):
        return {auth.name: auth.value.get_secret_value()}
    return {}


def add_cookies(request: Request, cookies: dict[str, str]) -> None:
    """Add ``cookies`` to a request's own, for its host and path ``/`` (Scrapy's CookiesMiddleware stores them in
    its jar). The path matters: a cookie without one is stored for the request's folder (``/p/``), and an old
    session's cookie there would shadow the new one sent for ``/``."""
    merged: JSONObject = {}
    if isinstance(request.cookies, dict):
        merged.update({str(k): v for k, v in request.cookies.items()})
    else:
        merged.update({str(c["name"]): c["value"] for c in request.cookies or [] if "name" in c})
    merged.update(cookies)
    request.cookies = [{"name": name, "value": value, "path": "/"} for name, value in merged.items()]


def apply_settings(crawler: Crawler, options: object) -> None:
    """Enable the auth middleware (and its header rules inside Chromium) for a site with ``auth:``; called from
    the spider's ``from_crawler`` after ``render.apply_settings``, while the settings are still writable."""
    auth = getattr(options, "auth", None)
    if auth is None:
        return
    middlewares = dict(crawler.settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares[MIDDLEWARE] = ORDER
    crawler.settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")
    if crawler.settings.get("PLAYWRIGHT_BROWSER_TYPE"):  # this site renders: scope headers in the browser too
        from connectors.auth.browser import BrowserHeaders

        headers = BrowserHeaders(list(credential_headers(auth)))
        crawler.settings.set("PLAYWRIGHT_PROCESS_REQUEST_HEADERS", headers, priority="spider")


def check_ready(options: object) -> None:
    """For ``ping``: a login filled in the rendered page needs the site to render (``render.mode``)."""
    auth = getattr(options, "auth", None)
    render = getattr(options, "render", None)
    if isinstance(auth, HeaderLogin) and getattr(render, "enabled", False):
        raise ConnectorError(
            f"auth.kind header cannot be used with render.mode {getattr(render, 'mode', '?')}: Chromium would carry "
            f"the {auth.name} header through redirects to other hosts; use kind cookies or form, or render.mode never"
        )
    if isinstance(auth, FormLogin) and auth.render and not getattr(render, "enabled", False):
        raise ConnectorError(
            "auth.render: true fills the login form in Chromium, but this site does not render pages; set "
            "render.mode (auto or always) or auth.render: false to post the form plainly"
        )


def login_session(options: AuthenticatedOptions) -> requests.Session:
    """For ``ping``: a requests session logged in with ``options.auth`` (connectors.auth.ping.session_for)."""
    from connectors.auth.ping import session_for

    render = getattr(options, "render", None)
    browser = render.browser() if render is not None and render.enabled else None
    assert options.auth is not None  # callers log in only for a site with auth:
    return session_for(options.auth, hosts_of(options, options.auth), browser)
