"""Content Browser pages over plain HTTP: paging and counts, facets and filters, sort, item pages titled by
their title with the permission walk, search paging, names in the activity log, run pages.
(The Chromium tests are in test_browser_chromium.py, the key and Host checks in test_browser_security.py.)"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from crawler.localapi import LocalPushAPI
from crawler.localapi.browse.searchpage import segments
from crawler.state import StateStore
from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]
# Level 1 denies the "blocked" group; level 2 allows group "team" (ann is a member through her alias).
TWO_LEVELS = [
    {
        "name": "deny-first",
        "permissionSets": [
            {
                "allowAnonymous": False,
                "allowedPermissions": [],
                "deniedPermissions": [{"identity": "blocked", "identityType": "Group", "securityProvider": "kb"}],
            }
        ],
    },
    {
        "permissionSets": [
            {
                "name": "readers",
                "allowAnonymous": False,
                "allowedPermissions": [{"identity": "team", "identityType": "Group", "securityProvider": "kb"}],
                "deniedPermissions": [],
            }
        ]
    },
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Client, str]]:
    state = StateStore(tmp_path / "state.sqlite")
    run = state.start_run("local/kb", "kb", "full", 1, os.getpid())
    counts = {"fetched": 70, "pushed": 61, "dropped": 9, "dropped/noindex": 6, "dropped/too_large": 3}
    state.finish_run(run, "failed", counts, "HTTP 503 from the Push API")
    state.close()
    server = LocalPushAPI(tmp_path / "data", queue_delay_scale=0.01, state_db=tmp_path / "state.sqlite")
    server.start()
    client = Client(server, "dev")
    src = client.create_source("docs", "SECURED")
    assert client.call("POST", f"{client.platform}/indexes/fields", [{"name": "category", "facet": True}]).ok
    client.call("PUT", f"{client.platform}/securityproviders/kb", {"sources": [{"id": src}]})
    for body in (
        {"identity": {"name": "team", "type": "GROUP"}, "members": [{"name": "ann", "type": "USER"}]},
        {"identity": {"name": "blocked", "type": "GROUP"}, "members": [{"name": "bob", "type": "USER"}]},
        {"identity": {"name": "team2", "type": "GROUP"}, "members": [{"name": "bob", "type": "USER"}]},
    ):
        assert client.call("PUT", f"{client.push}/providers/kb/permissions", body).status_code == 202
    for user in ("ann", "bob"):
        alias = {"name": f"{user}@example.com", "type": "USER", "provider": "Email Security Provider"}
        body = {"identity": {"name": user, "type": "USER"}, "mappings": [alias]}
        assert client.call("PUT", f"{client.push}/providers/kb/mappings", body).status_code == 202
    batch = [
        {
            "documentId": f"https://kb.test/{i:02d}",
            "title": f"Article {i:02d}",
            "filetype": "pdf" if i % 3 == 0 else "html",
            "category": f"c{i % 2}",
            "data": "walrus tusk " * (i + 1),
            "permissions": PUBLIC,
        }
        for i in range(60)
    ]
    batch.append(
        {"documentId": "https://kb.test/s", "title": "Staff only", "data": "walrus", "permissions": TWO_LEVELS}
    )
    assert client.batch(src, {"addOrUpdate": batch}).status_code == 202
    client.idle()
    yield client, src
    server.stop()


def get(client: Client, path: str, **params: Any) -> str:
    r = requests.get(client.base + path, params=params, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), r.text[:500]
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    return r.text


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_source_page_pages_counts_facets_filters_and_sorts(site: tuple[Client, str]) -> None:
    client, src = site
    assert "61 items" in text(get(client, "/"))
    first = text(get(client, f"/browse/sources/{src}", size=25))
    assert "1-25 of 61 items" in first and "Article 00" in first and "Article 25" not in first
    assert "61 items match filetype html 40 pdf 20" in first and "category c0 30 c1 30" in first
    third = text(get(client, f"/browse/sources/{src}", size=25, page=3))
    assert "51-61 of 61 items" in third and "Staff only" in third
    pdf = text(get(client, f"/browse/sources/{src}", f="filetype:pdf"))
    assert "1-20 of 20 items" in pdf and "Article 03" in pdf and "Article 01" not in pdf
    both = text(get(client, f"/browse/sources/{src}", f=["filetype:pdf", "category:c1"]))
    assert "1-10 of 10 items" in both and "filetype: pdf" in both and "category: c1" in both
    by_title = get(client, f"/browse/sources/{src}", sort="title", dir="desc")
    titles = re.findall(r">(Article \d\d|Staff only)</a>", by_title)
    assert titles[:3] == ["Staff only", "Article 59", "Article 58"]
    words = text(get(client, f"/browse/sources/{src}", aq="@filetype==pdf tusk"))
    assert "1-20 of 20 items" in words


def test_large_source_defers_its_summary_to_a_second_request(
    site: tuple[Client, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.localapi.browse import sources

    client, src = site
    monkeypatch.setattr(sources, "INLINE_LIMIT", 10)
    # facet filters are counted by the search index, inline whatever the size
    inline = get(client, f"/browse/sources/{src}", f="filetype:html")
    assert "data-summary=" not in inline and "40 items match" in text(inline)
    # free words in the filter box match the stored text in SQL (a scan): deferred past INLINE_LIMIT
    page = get(client, f"/browse/sources/{src}", f="filetype:html", aq="tusk")
    assert "data-summary=" in page and "(counting)" in page and "Article 01" in page
    summary = text(get(client, f"/browse/sources/{src}/summary", f="filetype:html", aq="tusk"))
    assert "40 items match" in summary and "category c0 20 c1 20" in summary


def test_item_page_is_titled_and_says_who_can_see_it_and_why(site: tuple[Client, str]) -> None:
    client, src = site
    page = get(client, "/browse/item", source=src, documentId="https://kb.test/s", user="ann@example.com")
    assert "<title>Staff only · Local Push API</title>" in page
    body = text(page)
    assert "Level 1 (deny-first)" in body and "Level 2" in body and "Set 1" in body and "readers" in body
    assert "ann@example.com can see this item" in body and "Level 2 decides: readers allows team" in body
    assert "alias ann (kb) → member of team (kb)" in body
    assert "Anyone (anonymous, as an API key searches) cannot see this item" in body
    bob = text(get(client, "/browse/item", source=src, documentId="https://kb.test/s", user="bob@example.com"))
    assert "bob@example.com cannot see this item" in bob and "Level 1 (deny-first) decides: Set 1 denies blocked" in bob
    stranger = text(get(client, "/browse/item", source=src, documentId="https://kb.test/s", user="zed@example.com"))
    assert "No level mentions this user" in stranger


@pytest.mark.parametrize("user", ["ann@example.com", "bob@example.com", "zed@example.com"])
def test_the_item_verdict_agrees_with_search(site: tuple[Client, str], user: str) -> None:
    client, src = site
    found = "Staff only" in text(get(client, "/browse/search", q="staff", user=user))  # titles carry <mark>s
    said = text(get(client, "/browse/item", source=src, documentId="https://kb.test/s", user=user))
    assert f"{user} can see this item" in said if found else f"{user} cannot see this item" in said


def test_search_pages_its_results(site: tuple[Client, str]) -> None:
    client, _ = site
    first = text(get(client, "/browse/search", q="walrus"))
    assert "60 results anonymously" in first and "1-20 of 60 results" in first
    third = text(get(client, "/browse/search", q="walrus", page=3))
    assert "41-60 of 60 results" in third
    assert "61 results as ann@example.com" in text(get(client, "/browse/search", q="walrus", user="ann@example.com"))


def test_excerpt_highlights_become_marked_runs() -> None:
    assert segments("the walrus tusk", [{"offset": 4, "length": 6}]) == [
        ("the ", False),
        ("walrus", True),
        (" tusk", False),
    ]
    # out of range, overlapping or malformed highlights are skipped, never an error
    bad = [{"offset": 2, "length": 99}, {"offset": "x", "length": 1}, {"offset": 0, "length": 3}]
    assert segments("the walrus", bad) == [("the", True), (" walrus", False)]


def test_activity_log_names_sources_and_filters(site: tuple[Client, str]) -> None:
    client, src = site
    log = get(client, "/browse/activity")
    assert f'title="{src}">docs</a>' in log and "ADDED" in log
    only = text(get(client, "/browse/activity", target=src, outcome="ADDED"))
    assert "1-61 of 61 entries" in only and "target: docs" in only


def test_run_pages_show_the_history_and_the_funnel(site: tuple[Client, str]) -> None:
    client, _ = site
    runs = text(get(client, "/browse/runs"))
    assert "kb" in runs and "failed" in runs and " 70 " in runs
    run = text(get(client, "/browse/runs/1"))
    assert "HTTP 503 from the Push API" in run and "dropped/noindex 6" in run and "pushed 61" in run


def test_pages_escape_what_they_show(site: tuple[Client, str]) -> None:
    client, src = site
    client.put_doc(src, "https://x.test/a?b=<c>", {"title": "Fox <b>den</b>", "data": "vixen", "permissions": PUBLIC})
    client.idle()
    listing = get(client, f"/browse/sources/{src}", sort="updated", dir="desc")
    assert "Fox &lt;b&gt;den&lt;/b&gt;" in listing and "<b>den</b>" not in listing
    detail = get(client, "/browse/item", source=src, documentId="https://x.test/a?b=<c>")
    assert "https://x.test/a?b=&lt;c&gt;" in detail and "<title>Fox &lt;b&gt;den&lt;/b&gt;" in detail


def test_item_page_names_a_same_name_identity_of_another_provider(site: tuple[Client, str]) -> None:
    """A permission naming no provider uses the source's default (kb): "bob@example.com" there is not the
    Email Security Provider's bob@example.com the user gave, and the page says so instead of only "no access"."""
    client, src = site
    perms = [{"allowAnonymous": False, "allowedPermissions": [{"identity": "bob@example.com", "identityType": "User"}]}]
    assert client.put_doc(src, "https://kb.test/bob", {"title": "Bob's", "data": "x", "permissions": perms}).ok
    client.idle()
    page = html.unescape(
        text(get(client, "/browse/item", source=src, documentId="https://kb.test/bob", user="bob@example.com"))
    )
    assert "bob@example.com cannot see this item" in page
    assert "names bob@example.com of provider kb (the source's default provider" in page
    assert "holds bob@example.com of provider Email Security Provider" in page  # the name, not its key


def test_warm_up_fills_the_caches_a_first_visit_would_fill(site: tuple[Client, str]) -> None:
    from crawler.localapi.browse import facets, lists, warm

    client, src = site
    ctx = client.server.ctx
    lists.CACHE._lru.clear()
    facets.COUNTS._lru.clear()
    warm.warm(ctx)
    path = str(ctx.store.path)
    assert any(k[0] == "outcomes" and k[1] == path for k in lists.CACHE._lru)
    assert any(k[0] == path and dict(v).get(src) == 61 for k, v in facets.COUNTS._lru.items())


def test_runs_list_shows_only_the_counts_its_runs_have(site: tuple[Client, str]) -> None:
    client, _ = site
    page = get(client, "/browse/runs")
    heads = re.findall(r'<th class="num">([a-z]+)</th>', page)
    assert heads[:3] == ["fetched", "pushed", "dropped"]  # the fixture's run counted these, in funnel order
    assert "unchanged" not in heads and "acknowledged" not in heads  # no run has them: no empty columns
