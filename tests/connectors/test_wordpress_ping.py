"""``WordPressConnector.ping``: clear ConnectorErrors for a wrong URL, wrong credentials, or not WordPress."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from connectors.wordpress.client import WordPressOptions
from connectors.wordpress.spider import WordPressConnector
from crawler import secrets
from crawler.errors import ConnectorError
from tests.fixtures.wordpress_server import PASSWORD, USERNAME, WordPressServer


@pytest.fixture
def server() -> Iterator[WordPressServer]:
    with WordPressServer() as srv:
        yield srv  # type: ignore[misc]


def opts(base: str, password: str | None = None) -> WordPressOptions:
    data: dict[str, object] = {"base_url": base}
    if password is not None:
        data["auth"] = {"username": USERNAME, "password": password}
    return WordPressOptions.model_validate(data)


def test_ping_ok_anonymous_and_authenticated(server: WordPressServer) -> None:
    WordPressConnector.ping(opts(server.base_url))
    WordPressConnector.ping(opts(server.base_url, PASSWORD))
    assert server.hits("/wp-json/wp/v2/users/me")[0].authorization is not None


def test_wrong_password(server: WordPressServer) -> None:
    with pytest.raises(ConnectorError, match=r"refused the credentials \(401 \(incorrect_password"):
        WordPressConnector.ping(opts(server.base_url, "wrong-password-123"))


def test_password_is_registered_as_secret() -> None:
    opts("http://wp.example.test", "s3cret-app-pass")
    assert secrets.redact("auth failed for s3cret-app-pass") == "auth failed for ***"


def test_not_wordpress_html(server: WordPressServer) -> None:
    server.mode = "html"
    with pytest.raises(ConnectorError, match="not JSON: not a WordPress site"):
        WordPressConnector.ping(opts(server.base_url))


def test_rest_api_disabled(server: WordPressServer) -> None:
    server.mode = "disabled"
    with pytest.raises(ConnectorError, match=r"no WordPress REST API at .* \(404\)"):
        WordPressConnector.ping(opts(server.base_url))


def test_unreachable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectorError, match="cannot reach WordPress"):
        WordPressConnector.ping(opts(f"http://127.0.0.1:{port}"))
