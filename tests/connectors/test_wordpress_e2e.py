"""WordPress end to end: ``pushcrawl crawl`` (real CLI, subprocess) from the fixture into the local Push API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.e2e import Site
from tests.fixtures.wordpress_server import PASSWORD, USERNAME, WordPressServer

pytestmark = pytest.mark.integration
PRIVATE = "/2024/04/12/team-offsite/"


def _site(folder: Path, server: WordPressServer) -> Site:
    options = {
        "base_url": server.base_url,
        "post_types": ["posts", "pages", "books"],
        "page_size": 2,
        "auth": {"username": USERNAME, "password": "${WP_APP_PASSWORD}"},
    }
    return Site.create(folder, "blog", "wordpress", options, env={"WP_APP_PASSWORD": PASSWORD})


@pytest.fixture
def wp(tmp_path: Path) -> Iterator[tuple[WordPressServer, Site]]:
    with WordPressServer() as server:
        yield server, _site(tmp_path, server)  # type: ignore[misc]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WordPressServer, Site, dict[str, Any]]]:
    """One first crawl shared by the tests that only read its report and search its index (none writes)."""
    with WordPressServer() as server:
        site = _site(tmp_path_factory.mktemp("wp"), server)
        yield server, site, site.crawl()  # type: ignore[misc]


def test_first_run_pushes_public_and_private_items(first_run: tuple[WordPressServer, Site, dict[str, Any]]) -> None:
    server, site, report = first_run
    assert report["status"] == "finished" and report["counts"]["errors"] == 0
    assert report["counts"]["pushed"] == 9  # 6 public posts/pages/books, 2 media, 1 private post
    (hit,) = site.search("cafeteria")
    assert hit["title"] == "Old announcement" and hit["raw"]["author"] == "Site Admin"
    assert hit["clickUri"] == server.base_url + "/2023/11/05/old-announcement/"
    assert hit["raw"]["date"] == "2023-11-05T10:00:00Z"
    assert site.uris("revenue", base=server.base_url) == {"/2024/04/10/quarterly-report/", "/q1-report-pdf/"}
    assert not site.search("4711") and not site.search("onboarding")  # protected body, draft: never pushed
    assert PASSWORD not in (site.folder / "report1.json").read_text()


def test_private_post_visible_to_its_author_only(first_run: tuple[WordPressServer, Site, dict[str, Any]]) -> None:
    server, site, _ = first_run
    assert site.search("offsite") == []  # anonymous
    assert site.uris("offsite", as_user="bob", base=server.base_url) == {PRIVATE}


def test_private_post_visible_to_editor_role_member(first_run: tuple[WordPressServer, Site, dict[str, Any]]) -> None:
    server, site, _ = first_run
    assert site.uris("offsite", as_user="jane", base=server.base_url) == {PRIVATE}


def test_second_run_pushes_the_change_and_deletes_the_removed(wp: tuple[WordPressServer, Site]) -> None:
    server, site = wp
    first = site.crawl()
    server.mutate()
    second = site.crawl()
    assert second["mode"] == "incremental" and second["status"] == "finished"
    assert second["counts"]["pushed"] == 1 and second["counts"]["deleted"] == 1
    assert second["deleted_ids"] == [server.base_url + "/2023/11/05/old-announcement/"]
    assert site.search("cafeteria") == []
    (hit,) = site.search("filters")
    assert hit["title"] == "Hello, Search \u2013 now with filters"
    assert first["counts"]["pushed"] == 9
