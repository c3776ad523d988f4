"""Drupal end to end: ``pushcrawl crawl`` (real CLI, subprocess) from the JSON:API fixture into the local index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.e2e import Site
from tests.fixtures.drupal_server import PASSWORD, USERNAME, DrupalServer

pytestmark = pytest.mark.integration
UNPUBLISHED = "/news/reorg-plan"


def _site(folder: Path, server: DrupalServer) -> Site:
    options = {
        "base_url": server.base_url,
        "page_size": 2,
        "include_unpublished": True,
        "auth": {"username": USERNAME, "password": "${DRUPAL_PASSWORD}"},
    }
    return Site.create(folder, "intranet", "drupal", options, env={"DRUPAL_PASSWORD": PASSWORD})


@pytest.fixture
def drupal(tmp_path: Path) -> Iterator[tuple[DrupalServer, Site]]:
    with DrupalServer() as server:
        yield server, _site(tmp_path, server)  # type: ignore[misc]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DrupalServer, Site, dict[str, Any]]]:
    """One first crawl shared by the tests that only read its report and search its index (none writes)."""
    with DrupalServer() as server:
        site = _site(tmp_path_factory.mktemp("drupal"), server)
        yield server, site, site.crawl()  # type: ignore[misc]


def test_first_run_pushes_every_node(first_run: tuple[DrupalServer, Site, dict[str, Any]]) -> None:
    server, site, report = first_run
    assert report["status"] == "finished" and report["counts"]["errors"] == 0
    assert report["counts"]["pushed"] == 7  # 6 published + 1 unpublished (restricted)
    (hit,) = site.search("password manager")
    assert hit["title"] == "Security policy update" and hit["raw"]["author"] == "Site Admin"
    assert hit["clickUri"] == server.base_url + "/news/security-policy"
    assert site.uris("tomato", base=server.base_url) == {"/node/5"}  # no alias: /node/{nid}


def test_unpublished_node_hidden_from_anonymous(first_run: tuple[DrupalServer, Site, dict[str, Any]]) -> None:
    _, site, report = first_run
    assert report["counts"]["pushed"] == 7  # the unpublished node is in the index…
    assert site.search("ORCHID") == []  # …but hidden from anonymous searches
    assert site.search("ORCHID", as_user="bob") == []  # bob has no unpublished_roles


def test_unpublished_node_visible_to_role_member(first_run: tuple[DrupalServer, Site, dict[str, Any]]) -> None:
    server, site, _ = first_run
    assert site.uris("ORCHID", as_user="jane", base=server.base_url) == {UNPUBLISHED}


def test_second_run_pushes_the_change_and_deletes_the_removed(drupal: tuple[DrupalServer, Site]) -> None:
    server, site = drupal
    site.crawl()
    server.mutate()
    second = site.crawl()
    assert second["mode"] == "incremental" and second["status"] == "finished"
    assert second["counts"]["pushed"] == 1 and second["counts"]["deleted"] == 1
    assert second["deleted_ids"] == [server.base_url + "/news/summer-party"]
    assert site.search("river") == []
    (hit,) = site.search("filtered")
    assert hit["title"] == "Welcome to the new intranet, now with filters"
