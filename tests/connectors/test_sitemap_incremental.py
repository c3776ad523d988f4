"""Sitemap incremental runs: lastmod cursor, skipped unmodified pages, 404/410 recheck of ids gone from it."""

from __future__ import annotations

import pytest

from tests.fixtures.crawl import run_connector
from tests.fixtures.sitemap_server import SitemapServer

pytestmark = pytest.mark.integration


def test_lastmod_cursor_and_recheck_of_removed_urls() -> None:
    with SitemapServer() as srv:
        opts = {"sitemap_urls": [f"{srv.base_url}/sitemap.xml"]}
        first = run_connector("sitemap", opts)
        assert len(first.documents()) == 4
        assert first.cursor == "2024-02-10T08:30:00.000000Z"
        srv.change("/guides/stoves.html", "Never cook inside the tent; ventilate.")
        srv.remove("/guides/tents.html", 410)
        known = [*first.documents(), f"{srv.base_url}/never/listed-but-alive.html"]
        srv.unlisted["/never/listed-but-alive.html"] = ("Alive", "Still here.", "2024-01-01")
        second = run_connector("sitemap", opts, mode="incremental", since=first.cursor, known_ids=known)
    # spring-opening has lastmod == cursor: fetched again (date-only or same-second edits), unchanged downstream
    assert sorted(second.documents()) == [
        f"{srv.base_url}/guides/stoves.html",
        f"{srv.base_url}/news/spring-opening.html",
    ]
    assert second.deletions() == [f"{srv.base_url}/guides/tents.html"]
    assert second.stats["pushcrawl/sitemap/not_modified"] == 1
    assert second.cursor == "2024-03-01T12:00:00.000000Z"
    assert second.stats["pushcrawl/recheck/fetched"] == 2  # tents (410) and the unlisted page (200, kept)


def test_old_lastmod_of_a_url_never_indexed_is_fetched() -> None:
    with SitemapServer() as srv:
        opts = {"sitemap_urls": [f"{srv.base_url}/sitemap.xml"]}
        known = [f"{srv.base_url}/guides/tents.html"]  # the others were never indexed (new, or failed before)
        result = run_connector(
            "sitemap", opts, mode="incremental", since="2024-03-01T00:00:00.000000Z", known_ids=known
        )
    assert len(result.documents()) == 3 and result.stats["pushcrawl/sitemap/not_modified"] == 1


def test_recheck_is_skipped_when_a_sitemap_failed() -> None:
    with SitemapServer() as srv:
        opts = {"sitemap_urls": [f"{srv.base_url}/sitemap.xml", f"{srv.base_url}/missing-sitemap.xml"]}
        result = run_connector(
            "sitemap",
            opts,
            mode="incremental",
            since="2024-01-01T00:00:00.000000Z",
            known_ids=[f"{srv.base_url}/old.html"],
        )
    assert result.listing_errors and result.deletions() == []
