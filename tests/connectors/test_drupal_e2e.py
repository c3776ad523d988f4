"""Drupal end to end: ``pushcrawl crawl`` (real CLI, subprocess) from the JSON:API fixture into the local index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.e2e import Site
from tests.fixtures.drupal_server import PASSWORD, USERNAME, DrupalServer

pytestmark = pytest.mark.integration
UNPUBLISHED = "/news/reorg-plan"


@pytest.fixture
def drupal(tmp_path: Path) -> Iterator[tuple[DrupalServer, Site]]:
    with DrupalServer() as server:
        options = {
            "base_url": server.base_url,
            "page_size": 2,
            "include_unpublished": True,
            "auth": {"username": USERNAME, "password": "${DRUPAL_PASSWORD}"},
        }
        site = Site.create(tmp_path, "intranet", "drupal", options, env={"DRUPAL_PASSWORD": PASSWORD})
        yield server, site  # type: ignore[misc]


def test_first_run_pushes_every_node(drupal: tuple[DrupalServer, Site]) -> None:
    server, site = drupal
    report = site.crawl()
    assert report["status"] == "finished" and report["counts"]["errors"] == 0
    assert report["counts"]["pushed"] == 7  # 6 published + 1 unpublished (restricted)
    (hit,) = site.search("password manager")
    assert hit["title"] == "Security policy update" and hit["raw"]["author"] == "Site Admin"
    assert hit["clickUri"] == server.base_url + "/news/security-policy"
    assert site.uris("tomato", base=server.base_url) == {"/node/5"}  # no alias: /node/{nid}


def test_unpublished_node_hidden_from_anonymous(drupal: tuple[DrupalServer, Site]) -> None:
    _, site = drupal
    assert site.crawl()["counts"]["pushed"] == 7  # the unpublished node is in the index…
    assert site.search("ORCHID") == []  # …but hidden from anonymous searches
    assert site.search("ORCHID", as_user="bob") == []  # bob has no unpublished_roles


def test_unpublished_node_visible_to_role_member(drupal: tuple[DrupalServer, Site]) -> None:
    server, site = drupal
    site.crawl()
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
