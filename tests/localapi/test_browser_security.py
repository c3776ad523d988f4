"""The local server's pages obey the API keys and the Host header (issue 17, finding 1).

Each test runs against a real server on 127.0.0.1 with keys configured (conftest: full ``test-key``,
``ro:view``, ``pusher:push``, ``ids:identities``); on a server that served its pages without keys, each fails.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from crawler.cli import main
from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import Client

SESSION_COOKIE = "pushcrawl_session"  # the cookie name, written out so this file also runs against older code

SECRET = [
    {
        "allowAnonymous": False,
        "allowedPermissions": [{"identity": "alice@example.com", "identityType": "User"}],
        "deniedPermissions": [],
    }
]


@pytest.fixture
def secret(client: Client, source: str) -> str:
    client.put_doc(source, "doc://secret1", {"title": "Payroll", "data": "payroll figures", "permissions": SECRET})
    client.idle()
    return source


def login(client: Client, key: str) -> requests.Session:
    browser = requests.Session()
    r = browser.post(client.base + "/login", data={"key": key, "next": "/"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    return browser


def test_local_item_needs_a_view_key(client: Client, secret: str) -> None:
    url, params = client.base + "/local/item", {"source": secret, "documentId": "doc://secret1"}
    assert requests.get(url, params=params, timeout=10).status_code == 401
    pusher = requests.get(url, params=params, headers={"Authorization": "Bearer pusher"}, timeout=10)
    assert pusher.status_code == 403 and pusher.json()["errorCode"] == "ACCESS_DENIED"
    viewer = requests.get(url, params=params, headers={"Authorization": "Bearer ro"}, timeout=10)
    assert viewer.status_code == 200 and viewer.json()["text"].startswith("payroll")
    # status and the activity log: any valid key, no key refused
    assert requests.get(client.base + "/local/status", timeout=10).status_code == 401
    assert requests.get(client.base + "/local/activity", headers={"Authorization": "Bearer ids"}, timeout=10).ok


def test_browser_pages_redirect_to_login_without_a_session(client: Client, secret: str) -> None:
    for path in ("/", f"/browse/sources/{secret}", "/browse/item", "/browse/activity", "/browse/runs"):
        r = requests.get(client.base + path, allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["Location"].startswith("/login?next="), path
    r = requests.get(
        client.base + "/browse/search",
        params={"q": "payroll", "user": "alice@example.com"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 303 and "Payroll" not in r.text


def test_login_with_a_view_key_sets_a_strict_httponly_cookie_and_searches_as_a_user(
    client: Client, secret: str
) -> None:
    r = requests.post(client.base + "/login", data={"key": "ro"}, allow_redirects=False, timeout=10)
    cookie = r.headers["Set-Cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    browser = login(client, "ro")
    page = browser.get(client.base + "/browse/search", params={"q": "payroll", "user": "alice@example.com"})
    assert page.status_code == 200 and "Payroll" in page.text and "1 result" in page.text
    # the cookie opens the pages, never the APIs: a cross-site form cannot search or push with it
    assert browser.post(client.base + "/rest/search/v2", json={"q": "payroll"}).status_code == 401
    assert browser.post(client.base + "/logout", allow_redirects=False).status_code == 303
    assert browser.get(client.base + "/", allow_redirects=False).status_code == 303


def test_login_refuses_keys_without_view_unknown_keys_and_other_origins(client: Client) -> None:
    for key, status in (("pusher", 403), ("nope", 401), ("", 401)):
        r = requests.post(client.base + "/login", data={"key": key}, allow_redirects=False, timeout=10)
        assert r.status_code == status and SESSION_COOKIE not in r.headers.get("Set-Cookie", ""), key
    evil = requests.post(
        client.base + "/login",
        data={"key": "ro"},
        headers={"Origin": "http://evil.example.com"},
        allow_redirects=False,
        timeout=10,
    )
    assert evil.status_code == 403 and "Set-Cookie" not in evil.headers
    away = requests.post(
        client.base + "/login", data={"key": "ro", "next": "//evil.example.com/x"}, allow_redirects=False, timeout=10
    )
    assert away.headers["Location"] == "/"


def test_a_bearer_view_key_opens_a_page_and_a_push_key_does_not(client: Client, source: str) -> None:
    assert requests.get(client.base + "/", headers={"Authorization": "Bearer ro"}, timeout=10).status_code == 200
    r = requests.get(client.base + "/", headers={"Authorization": "Bearer pusher"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "view" in r.text


def test_one_time_link_logs_in_once(client: Client, server: LocalPushAPI, source: str) -> None:
    token = server.ctx.auth.one_time_link()
    browser = requests.Session()
    first = browser.get(client.base + "/login", params={"once": token}, allow_redirects=False, timeout=10)
    assert first.status_code == 303 and SESSION_COOKIE in browser.cookies
    assert browser.get(client.base + "/", timeout=10).status_code == 200
    again = requests.get(client.base + "/login", params={"once": token}, allow_redirects=False, timeout=10)
    assert again.status_code == 401 and "Set-Cookie" not in again.headers


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:80", "127.0.0.1.evil.example.com"])
def test_foreign_host_headers_are_refused_everywhere(client: Client, secret: str, host: str) -> None:
    """DNS rebinding: the attacker's page reaches 127.0.0.1 under its own name, which the server refuses."""
    headers = {"Host": host, "Authorization": "Bearer test-key"}
    for path in ("/", "/local/item", "/local/status", f"/rest/organizations/pushcrawl-local/sources/{secret}"):
        r = requests.get(client.base + path, params={"source": secret, "documentId": "doc://secret1"},
                         headers=headers, timeout=10)  # fmt: skip
        assert r.status_code == 421 and "payroll" not in r.text, path
    local = requests.get(client.base + "/local/status", headers={"Host": "localhost:1", "Authorization": "Bearer ro"})
    assert local.status_code == 200


def test_a_non_loopback_address_is_refused_without_a_key_and_warned_about_with_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match="without an API key"):
        LocalPushAPI(tmp_path / "a", host="0.0.0.0")
    with caplog.at_level(logging.WARNING, logger="crawler.localapi.server"):
        LocalPushAPI(tmp_path / "b", host="0.0.0.0", api_keys=["k"]).store.close()
    assert any("reachable beyond this machine" in r.getMessage() for r in caplog.records)


def test_serve_refuses_a_public_address_without_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "--host", "0.0.0.0", "--port", "0", "--data", str(tmp_path / "d")])
    assert code != 0 and "without an API key" in capsys.readouterr().err


def test_host_names_accepted_besides_loopback() -> None:
    from crawler.localapi.hosts import HostCheck

    lan = HostCheck("0.0.0.0", ["box.lan"])
    assert lan.allows("box.lan:8090") and lan.allows("0.0.0.0:8090") and lan.allows("[::1]:8090")
    assert not lan.allows("evil.example.com") and not lan.allows("box.lan.evil.example.com") and not lan.allows("")
    assert HostCheck("192.168.1.5").allows("192.168.1.5:8090") and not HostCheck("127.0.0.1").allows("192.168.1.5")
