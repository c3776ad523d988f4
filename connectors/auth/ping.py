"""``ping`` behind a login: prove the credentials open the site before a run (requests, outside the reactor).

``session_for(auth)`` returns a requests session that carries the login: the header or cookies, or the
cookies a form login set (the form fetched, its hidden fields kept, the credentials posted, the result
judged by ``forms.logged_in``). ``get_page`` then fetches a start page or a sitemap with it and fails when the
answer is the login wall. Every error names the user and the option to check, never the secret.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from connectors.auth import credential_headers, hostname
from connectors.auth.forms import (
    LoginError,
    as_response,
    fill_steps,
    logged_in,
    login_request,
    on_login_page,
    refused,
)
from connectors.auth.options import AuthOptions, CookiesLogin, FormLogin
from connectors.http import fetch
from crawler import secrets
from crawler.errors import ConnectorError

TIMEOUT_S = 15.0


class ScopedSession(requests.Session):
    """A requests session whose credential headers are dropped on a redirect to a host outside ``hosts``
    (requests itself drops only ``Authorization``; a custom header would follow the redirect)."""

    def __init__(self, hosts: frozenset[str], names: list[str]) -> None:
        super().__init__()
        self.auth_hosts = hosts
        self.names = names

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]  # requests' own method is untyped
        if hostname(prepared_request.url or "") not in self.auth_hosts:
            for name in self.names:
                prepared_request.headers.pop(name, None)


def _form_login(session: requests.Session, auth: FormLogin) -> None:
    page = fetch(auth.login_url, what="login page", hint="check auth.login_url", session=session)
    post = login_request(as_response(page.url, page.content, page.status_code), auth)
    try:
        # a requests.Request, not form2request's prepared one: the session's cookies (a CSRF cookie) go with it
        plain = requests.Request(post.method, post.url, headers=dict(post.headers), data=post.body)
        answer = session.send(session.prepare_request(plain), timeout=TIMEOUT_S, allow_redirects=True)
        if auth.check.url:
            answer = session.get(auth.check.url, timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        raise ConnectorError(f"cannot log in at {post.url} ({exc}); check auth.login_url") from None
    if not logged_in(as_response(answer.url, answer.content, answer.status_code), auth):
        raise refused(auth, answer.url)


def _rendered_login(session: requests.Session, auth: FormLogin, browser: str | None) -> None:
    """The form filled and submitted in Chromium (Playwright's sync API: ping runs outside the reactor); the
    browser's cookies then go with the session's requests."""
    from playwright.sync_api import Error, sync_playwright

    from connectors.render import CHROMIUM_ARGS

    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=browser, headless=True, args=CHROMIUM_ARGS)
            try:
                page = chromium.new_page()
                page.goto(auth.login_url, timeout=TIMEOUT_S * 1000)
                for selector, value in fill_steps(auth):
                    page.fill(selector, value, timeout=TIMEOUT_S * 1000)
                page.click(auth.submit_selector, timeout=TIMEOUT_S * 1000)
                page.wait_for_load_state("load")
                url, body, cookies = page.url, page.content().encode("utf-8"), page.context.cookies()
            finally:
                chromium.close()
    except Error as exc:
        raise LoginError(f"cannot log in {auth.user} in Chromium at {auth.login_url} ({exc}); check auth") from None
    for cookie in cookies:
        secrets.register(cookie.get("value"))
        session.cookies.set(str(cookie.get("name")), str(cookie.get("value")), domain=cookie.get("domain"))
    if auth.check.url:
        answer = session.get(auth.check.url, timeout=TIMEOUT_S)
        url, body = answer.url, answer.content
    if not logged_in(as_response(url, body), auth):
        raise refused(auth, url)


def session_for(auth: AuthOptions, hosts: frozenset[str], browser: str | None = None) -> requests.Session:
    """A session carrying the login to ``hosts`` only; ConnectorError (naming the user, never the secret) when
    the login fails. ``browser``: the Chromium binary, for a login filled in the rendered page."""
    headers = credential_headers(auth)
    session = ScopedSession(hosts, list(headers))
    session.headers.update(headers)
    if isinstance(auth, CookiesLogin):
        for host in hosts:  # host-scoped in the jar: never sent elsewhere
            for name, value in auth.cookies.items():
                session.cookies.set(name, value.get_secret_value(), domain=host)
    if isinstance(auth, FormLogin):
        try:
            if auth.render:
                _rendered_login(session, auth, browser)
            else:
                _form_login(session, auth)
        except LoginError as exc:
            raise ConnectorError(str(exc)) from None
    return session


def get_page(
    url: str, auth: AuthOptions | None, session: requests.Session | None, *, what: str, hint: str
) -> requests.Response:
    """``fetch`` a page with the login (``session`` from ``session_for``); ConnectorError when the site refuses
    it or answers its login wall."""
    if auth is None or session is None:
        return fetch(url, what=what, hint=hint)
    refused_hint = f"the site refused {auth.user} (auth.kind {auth.kind}); check the credentials in auth"
    resp = fetch(url, what=what, hint=hint, session=session, refused=refused_hint)
    if on_login_page(as_response(resp.url, resp.content, resp.status_code), auth):
        raise ConnectorError(
            f"{what} {url} answered the login page ({urlsplit(resp.url).path}) with {auth.user} (auth.kind "
            f"{auth.kind}): not logged in; check the credentials in auth"
        )
    return resp
