"""MediaWiki bot-password login: ping's errors, and crawls of a private wiki (the fixture in private mode).

The crawls run the real spider in this process (the test reactor) against the fixture server; nothing of
our own is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors.mediawiki import client
from crawler import secrets
from crawler.errors import ConnectorError
from tests.fixtures.crawl import run_connector
from tests.fixtures.mediawiki_server import BOT_PASSWORD, BOT_USER, MediaWikiServer


@pytest.fixture
def wiki() -> Iterator[MediaWikiServer]:
    with MediaWikiServer(private=True) as srv:
        yield srv  # type: ignore[misc]


def options(srv: MediaWikiServer, password: str | None = BOT_PASSWORD, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"api_url": srv.base_url + "/w/api.php", **extra}
    if password is not None:
        data["auth"] = {"username": BOT_USER, "password": password}
    return data


def ping(opts: dict[str, Any]) -> None:
    client.ping(client.MediaWikiOptions.model_validate(opts))


# ---- ping ----
@pytest.mark.parametrize("proxy_auth", [True, False])
def test_ping_refused_by_a_proxy_names_the_http_auth_option(proxy_auth: bool) -> None:
    # a 401 before any MediaWiki answer comes from HTTP auth in front of the wiki: http_auth, not auth
    with MediaWikiServer() as srv:
        srv.fail("/w/api.php", 401)
        extra = {"http_auth": {"username": "proxy-user", "password": "proxy-secret"}} if proxy_auth else {}
        with pytest.raises(ConnectorError) as err:
            ping(options(srv, **extra))  # type: ignore[arg-type]
    todo = "check http_auth.username and http_auth.password" if proxy_auth else "set http_auth"
    assert str(err.value).endswith(f"refused access (HTTP 401); {todo}")
    assert "proxy-secret" not in str(err.value)


def test_ping_logs_in_with_the_password_in_the_post_body_only(wiki: MediaWikiServer) -> None:
    ping(options(wiki))
    assert wiki.logins == 1
    asked = [r.target for r in wiki.requests]
    assert any("meta=tokens" in r and "type=login" in r for r in asked)
    assert any("assert=user" in r and "siteinfo" in r for r in asked)  # read as the user, not anonymous
    assert not any(BOT_PASSWORD in r for r in asked)  # never in a URL
    assert [BOT_PASSWORD in body for body in wiki.login_bodies] == [True]


def test_ping_wrong_password_names_the_user_not_the_password(wiki: MediaWikiServer) -> None:
    wrong = "not-the-bot-password-0042"
    with pytest.raises(ConnectorError) as err:
        ping(options(wiki, wrong))
    message = str(err.value)
    assert f"refused the login of user '{BOT_USER}' (Failed: Incorrect username or password" in message
    assert "auth.username (Account@BotName" in message and "auth.password" in message
    assert wrong not in message and wiki.logins == 0 and wiki.failed_logins == 1


def test_ping_without_auth_on_a_private_wiki_asks_for_a_bot_password(wiki: MediaWikiServer) -> None:
    with pytest.raises(ConnectorError, match=r"requires a login to read \(readapidenied.*Special:BotPasswords"):
        ping(options(wiki, password=None))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("disabled", r"does not accept action=login \(moduledisabled"),
        ("aborted", rf"cannot log in user '{BOT_USER}' with action=login \(Aborted"),
    ],
)
def test_ping_on_a_wiki_where_login_is_not_possible(mode: str, expected: str) -> None:
    server = MediaWikiServer(private=True, login_mode=mode)  # type: ignore[arg-type]
    with server as srv, pytest.raises(ConnectorError, match=expected):
        ping(options(srv))


def test_ping_with_auth_keeps_its_errors_for_a_wrong_url(wiki: MediaWikiServer) -> None:
    with pytest.raises(ConnectorError, match=r"api\.php.* answered text/html, not JSON"):
        ping({**options(wiki), "api_url": wiki.base_url + "/w/api.php?format=xml"})
    with pytest.raises(ConnectorError, match=r"not found at .* \(HTTP 404\); api_url must point"):
        ping({**options(wiki), "api_url": wiki.base_url + "/wiki/Main_Page"})
    assert wiki.logins == 0


def test_password_is_registered_as_a_secret() -> None:
    client.MediaWikiOptions.model_validate(
        {"api_url": "http://wiki.example/w/api.php", "auth": {"username": BOT_USER, "password": "bot-pass-4711"}}
    )
    assert secrets.redact("login with bot-pass-4711 failed") == "login with *** failed"


def test_login_result_with_a_message_object_as_reason() -> None:
    answer = {"login": {"result": "Failed", "reason": {"code": "wrongpassword", "text": "Incorrect password."}}}
    with pytest.raises(client.LoginError, match=r"'A@b' \(Failed: Incorrect password\.\)"):
        client.check_login(answer, "http://wiki.example/w/api.php", "A@b")
    with pytest.raises(client.LoginError, match="session cookie was not kept"):
        client.check_login({"login": {"result": "WrongToken"}}, "http://wiki.example/w/api.php", "A@b")


def test_asserting_adds_assert_user_once() -> None:
    once = client.asserting(client.siteinfo_url("http://wiki.example/w/api.php"))
    assert client.asserting(once) == once and once.count("assert=user") == 1


# ---- crawls ----
@pytest.mark.integration
def test_private_wiki_crawl_logs_in_and_asserts_the_user(wiki: MediaWikiServer) -> None:
    result = run_connector("mediawiki", options(wiki, batch_size=3))
    assert len(result.documents()) == 6 and result.listing_errors == []
    assert result.stats["pushcrawl/logins"] == 1 and wiki.logins == 2  # ping's session, then the crawl's
    asked = [r.target for r in wiki.requests]
    api_reads = [r for r in asked if r.startswith("/w/api.php?") and "meta=tokens" not in r]
    # all but ping's first, anonymous probe (is this a MediaWiki?) read as the logged-in user
    assert "assert=user" not in api_reads[0] and all("assert=user" in r for r in api_reads[1:])
    assert BOT_PASSWORD not in result.log


@pytest.mark.integration
def test_session_lost_mid_run_logs_in_again_and_completes() -> None:
    with MediaWikiServer(private=True, list_limit=2, drop_sessions_after=4) as srv:
        result = run_connector("mediawiki", options(srv, batch_size=2))
        assert srv.drop_sessions_after is None  # the session was dropped during the crawl
    assert len(result.documents()) == 6
    assert result.listing_errors == [] and "pushcrawl/errors" not in result.stats
    assert result.stats["pushcrawl/logins"] == 2
    assert "session lost (assertuserfailed" in result.log and BOT_PASSWORD not in result.log
    assert result.stats["log_count/WARNING"] == 1  # that one: nothing else went wrong


@pytest.mark.integration
def test_session_lost_and_login_refused_counts_errors_and_deletes_nothing() -> None:
    with MediaWikiServer(private=True, list_limit=2, drop_sessions_after=4, revoke_on_drop=True) as srv:
        first = run_connector("mediawiki", options(srv))
        srv.bot_password, srv.drop_sessions_after = BOT_PASSWORD, srv.user_requests + 3
        since = srv.now()
        srv.delete_page("Seal Watching")
        second = run_connector("mediawiki", options(srv), mode="incremental", since=since)
    # first run: the listing broke off when the password stopped working
    assert first.listing_errors or first.stats.get("pushcrawl/errors")
    assert "login to" in first.log and "failed" in first.log and BOT_PASSWORD not in first.log
    assert len(first.documents()) < 6
    # an incremental run that loses its session is incomplete too, and reports no deletion it could not see
    assert second.deletions() == [] and (second.listing_errors or second.stats.get("pushcrawl/errors"))
