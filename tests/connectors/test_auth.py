"""``auth:`` for the web and sitemap connectors, crawled in process against a site that enforces each login kind
(tests/fixtures/login_server.py): pages behind the login indexed, the login and logout pages never fetched as
pages, a lost form session logged in again once and counted, credentials never sent to another host, a wrong
secret refused by ``ping`` with a message naming the user and never the secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crawler.errors import ConnectorError
from tests.fixtures.crawl import run_connector
from tests.fixtures.login_server import PASSWORD, SID, TOKEN, USER, LoginSite

pytestmark = pytest.mark.integration

KINDS = ("basic", "header", "cookies", "form")
SECRETS = (PASSWORD, TOKEN, SID)


def auth_for(kind: str, site: LoginSite, **extra: Any) -> dict[str, Any]:
    base = site.base_url
    return {
        "basic": {"kind": "basic", "username": USER, "password": PASSWORD},
        "header": {"kind": "header", "value": f"Bearer {TOKEN}"},
        "cookies": {"kind": "cookies", "cookies": {"sid": SID}, "login_url": f"{base}/login"},
        "form": {"kind": "form", "login_url": f"{base}/login", "username": USER, "password": PASSWORD},
    }[kind] | extra


def web(site: LoginSite, auth: dict[str, Any]) -> Any:
    return run_connector("web", {"start_urls": [f"{site.base_url}/"], "auth": auth, "autothrottle": False})


def pages(result: Any, site: LoginSite) -> list[str]:
    return sorted(d.removeprefix(site.base_url) for d in result.documents())


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def site(kind: str) -> Iterator[LoginSite]:
    with LoginSite(kind) as server:
        yield server


def test_pages_behind_each_login_are_indexed_and_the_login_page_is_not(kind: str, site: LoginSite) -> None:
    result = web(site, auth_for(kind, site))
    assert pages(result, site) == ["/", "/p/1", "/p/2", "/p/3", "/p/4", "/p/5", "/p/6"]
    assert result.listing_errors == [] and result.stats.get("pushcrawl/errors") is None
    assert site.hits("/logout") == []  # following it would have ended the session
    login_gets = [r for r in site.hits("/login") if r.method == "GET"]
    if kind in ("form", "cookies"):  # ping's and the crawl's login, never as a page
        assert len(login_gets) == (2 if kind == "form" else 0)
    # the /logout link, and /login where the kind has a login page (basic and header sites 404 it)
    assert result.stats["pushcrawl/auth/skipped"] == (2 if kind in ("form", "cookies") else 1)
    assert not any(secret in result.log for secret in SECRETS)


def test_without_auth_the_site_gives_nothing(site: LoginSite) -> None:
    result = run_connector("web", {"start_urls": [f"{site.base_url}/"], "autothrottle": False}, ping=False)
    # the wall at most (its login page): proves the fixture enforces the login the other tests pass
    assert not [p for p in pages(result, site) if p.startswith(("/p/", "/?"))] and "/" not in pages(result, site)


def test_a_form_session_lost_mid_run_logs_in_once_more_and_every_page_is_indexed() -> None:
    with LoginSite("form", pages=12, expire_after=5) as site:
        result = web(site, auth_for("form", site))
        assert site.expired and site.logins == 3  # ping, the crawl, the crawl again
    assert result.stats["pushcrawl/auth/relogins"] == 1
    assert result.stats["pushcrawl/auth/retried"] >= 1  # the pages that met the login page, each retried once
    assert pages(result, site) == ["/", *sorted(f"/p/{n}" for n in range(1, 13))]
    assert result.listing_errors == []
    assert "logging in again" in result.log and PASSWORD not in result.log


def test_a_form_login_refused_mid_run_stops_the_run_incomplete() -> None:
    with LoginSite("form", pages=12, expire_after=3) as site:
        original = site._login

        def revoke_then_login(request: Any) -> Any:  # the password is revoked when the session expires
            if site.expired:
                site.password = "revoked-by-the-admin"
            return original(request)

        site._login = revoke_then_login  # type: ignore[method-assign]
        result = web(site, auth_for("form", site))
    assert result.stats["pushcrawl/auth/login_failed"] == 1
    assert any("login failed" in e and f"user '{USER}'" in e for e in result.listing_errors)  # no sweep
    assert result.stats["finish_reason"] == "login_failed"
    assert "/login" not in pages(result, site) and PASSWORD not in result.log


def test_lost_cookies_cannot_log_in_again_so_pages_are_dropped_and_the_run_incomplete() -> None:
    with LoginSite("cookies", pages=12, expire_after=3) as site:
        result = web(site, auth_for("cookies", site))
    assert result.stats["pushcrawl/dropped/login_required"] >= 1
    assert result.listing_errors and "login required" in result.listing_errors[0]
    assert "/login" not in pages(result, site)
    assert SID not in result.log


@pytest.mark.parametrize("kind", ["header", "cookies", "form"])
def test_credentials_never_reach_another_host(kind: str) -> None:
    """The sitemap lists a page on another host and a page redirecting there: both are fetched, bare."""
    extra = {"name": "X-Intranet-Token", "value": TOKEN} if kind == "header" else {}
    with LoginSite(kind) as site:
        if kind == "header":  # a custom header, which Scrapy's redirect handling would carry along
            site._allowed = lambda request: request.headers.get("x-intranet-token") == TOKEN  # type: ignore[method-assign]
        result = run_connector(
            "sitemap", {"sitemap_urls": [f"{site.base_url}/sitemap.xml"], "auth": auth_for(kind, site, **extra)}
        )
        elsewhere = {r.path: r.headers for r in site.other.requests}
    assert "/p/6" in pages(result, site)
    assert set(elsewhere) >= {"/listed", "/landing"}
    for headers in elsewhere.values():
        assert "x-intranet-token" not in headers and "authorization" not in headers and "cookie" not in headers


@pytest.mark.parametrize(
    ("kind", "wrong", "says"),
    [
        ("basic", {"password": "wrong-password-1"}, f"user '{USER}'"),
        ("header", {"value": "Bearer wrong-token-22"}, "the Authorization header"),
        ("cookies", {"cookies": {"sid": "stale-session-333"}}, "the cookies sid"),
        ("form", {"password": "wrong-password-4444"}, f"refused the login of user '{USER}'"),
    ],
)
def test_ping_refuses_a_wrong_secret_naming_the_user_not_the_secret(
    kind: str, wrong: dict[str, Any], says: str
) -> None:
    from connectors.web.spider import WebConnector

    with LoginSite(kind) as site:
        options = WebConnector.Options.model_validate(
            {"start_urls": [f"{site.base_url}/"], "auth": auth_for(kind, site, **wrong)}
        )
        with pytest.raises(ConnectorError) as caught:
            WebConnector.ping(options)
    message = str(caught.value)
    assert says in message and "auth" in message
    secret = next(iter(wrong.values()))
    assert (secret if isinstance(secret, str) else secret["sid"]) not in message


def test_a_rendered_login_needs_a_rendering_site() -> None:
    from connectors.web.spider import WebConnector

    form = {"kind": "form", "login_url": "http://127.0.0.1:9/login", "username": USER, "password": PASSWORD}
    options = WebConnector.Options.model_validate(
        {"start_urls": ["http://127.0.0.1:9/"], "auth": form | {"render": True}}
    )
    with pytest.raises(ConnectorError, match=r"render\.mode"):
        WebConnector.ping(options)


def test_auth_options_are_checked_by_kind() -> None:
    from pydantic import ValidationError

    from connectors.web.spider import WebConnector

    with pytest.raises(ValidationError, match="kind"):
        WebConnector.Options.model_validate({"start_urls": ["http://x.test/"], "auth": {"kind": "kerberos"}})
    with pytest.raises(ValidationError, match="password"):
        WebConnector.Options.model_validate(
            {"start_urls": ["http://x.test/"], "auth": {"kind": "basic", "username": "u"}}
        )
