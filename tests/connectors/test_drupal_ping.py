"""``DrupalConnector.ping``: clear ConnectorErrors for a wrong URL, credentials, content type, not Drupal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.drupal.client import DrupalOptions
from connectors.drupal.spider import DrupalConnector
from crawler.errors import ConnectorError
from tests.fixtures.drupal_server import PASSWORD, USERNAME, DrupalServer


@pytest.fixture
def server() -> Iterator[DrupalServer]:
    with DrupalServer() as srv:
        yield srv  # type: ignore[misc]


def opts(base: str, password: str | None = None, **extra: object) -> DrupalOptions:
    data: dict[str, object] = {"base_url": base, **extra}
    if password is not None:
        data["auth"] = {"username": USERNAME, "password": password}
    return DrupalOptions.model_validate(data)


def test_ping_ok(server: DrupalServer) -> None:
    DrupalConnector.ping(opts(server.base_url))
    DrupalConnector.ping(opts(server.base_url, PASSWORD))


def test_wrong_password(server: DrupalServer) -> None:
    with pytest.raises(ConnectorError, match=r"refused user 'crawler' \(401\)"):
        DrupalConnector.ping(opts(server.base_url, "not-the-password"))


def test_unknown_content_type(server: DrupalServer) -> None:
    with pytest.raises(ConnectorError, match=r"no content type \['event'\] \(known: \['article', 'page'\]\)"):
        DrupalConnector.ping(opts(server.base_url, content_types=["article", "event"]))


def test_not_drupal(server: DrupalServer) -> None:
    server.mode = "html"
    with pytest.raises(ConnectorError, match="not JSON:API: not a Drupal site"):
        DrupalConnector.ping(opts(server.base_url))


def test_jsonapi_disabled(server: DrupalServer) -> None:
    server.mode = "disabled"
    with pytest.raises(ConnectorError, match=r"no JSON:API at .* \(404\): is the JSON:API module enabled"):
        DrupalConnector.ping(opts(server.base_url))


def test_unknown_option_is_rejected() -> None:
    with pytest.raises(ValueError, match="include_drafts"):
        opts("http://drupal.example.test", include_drafts=True)
