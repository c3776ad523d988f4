"""MediaWiki connector: wikitext reduction and mapping offline; batched crawls and increments on the fixture."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from connectors.mediawiki import client, mapping
from crawler.errors import ConnectorError
from tests.fixtures.crawl import run_connector
from tests.fixtures.mediawiki_server import SAMPLES, MediaWikiServer

SITE = mapping.Site("http://wiki.example", "/wiki/$1", {0: "", 2: "User"})


def test_page_urls_follow_mediawiki_encoding() -> None:
    assert SITE.page_url("Café & Visitor Centre") == "http://wiki.example/wiki/Caf%C3%A9_%26_Visitor_Centre"
    assert SITE.page_url("User:Ines Moreau") == "http://wiki.example/wiki/User:Ines_Moreau"


def test_siteinfo_resolves_protocol_relative_server() -> None:
    data = json.loads((SAMPLES / "siteinfo.json").read_text())
    data["query"]["general"]["server"] = "//wiki.example"
    site = mapping.Site.from_siteinfo(data, "https://wiki.example/w/api.php")
    assert site.server == "https://wiki.example"


def test_wikitext_to_text_keeps_prose_and_drops_markup() -> None:
    page = next(p for p in json.loads((SAMPLES / "pages.json").read_text()) if p["pageid"] == 2)
    text = mapping.wikitext_to_text(page["text"])
    assert text.startswith("The dunes host ringed plovers and skylarks.")
    assert "Nesting" in text and "the plover sheet" in text
    for noise in ("{{", "[[", "<ref", "Survey 2023", "TODO", "Category:", "'''"):
        assert noise not in text


def test_page_document_categories_and_gone() -> None:
    page = {
        "pageid": 3,
        "ns": 0,
        "title": "Tide Pools",
        "categories": [{"ns": 14, "title": "Category:Shore"}],
        "revisions": [
            {
                "revid": 9,
                "user": "Sam",
                "timestamp": "2024-01-20T14:00:00Z",
                "slots": {"main": {"content": "Tide pools fill at high tide."}},
            }
        ],
    }
    doc = mapping.page_document(page, SITE)
    assert doc is not None and doc.metadata["categories"] == ["Shore"] and doc.author == "Sam"
    assert mapping.gone({"title": "X", "missing": True}) and mapping.gone({"title": "Y", "redirect": True})


def test_api_errors_are_raised() -> None:
    with pytest.raises(client.ApiError, match="badvalue"):
        client.check({"error": {"code": "badvalue", "info": "nope"}})


def test_ping_rejects_a_non_api_url() -> None:
    with MediaWikiServer() as srv, pytest.raises(ConnectorError, match=r"api\.php"):
        client.ping(client.MediaWikiOptions(api_url=srv.base_url + "/wiki/Main_Page"))


@pytest.mark.integration
def test_full_crawl_batches_and_continues() -> None:
    with MediaWikiServer(list_limit=2, cat_limit=2) as srv:
        result = run_connector("mediawiki", {"api_url": srv.base_url + "/w/api.php", "batch_size": 3})
        page_queries = [r.target for r in srv.requests if "prop=revisions" in r.target]
    docs = result.documents()
    assert len(docs) == 6  # no redirect, no User: page
    assert docs[f"{srv.base_url}/wiki/Birds_of_the_Dunes"]["metadata"]["categories"] == ["Birds", "Dunes", "Featured"]
    assert docs[f"{srv.base_url}/wiki/Seal_Watching"]["metadata"]["categories"] == ["Mammals", "Shore"]
    assert len(page_queries) < len(docs)  # batched, not one query per page
    assert result.cursor is not None and result.listing_errors == []


@pytest.mark.integration
def test_incremental_edit_move_and_delete() -> None:
    with MediaWikiServer() as srv:
        opts = {"api_url": srv.base_url + "/w/api.php"}
        first = run_connector("mediawiki", opts)
        srv.edit_page("Tide Pools", "Tide pools are '''full''' of life.")
        srv.delete_page("Seal Watching")
        srv.move_page("Reserve Rules", "Reserve Code")
        second = run_connector("mediawiki", opts, mode="incremental", since=first.cursor)
    base = f"{srv.base_url}/wiki/"
    assert sorted(second.documents()) == [base + "Reserve_Code", base + "Tide_Pools"]
    assert second.documents()[base + "Tide_Pools"]["text"] == "Tide pools are full of life."
    assert second.deletions() == [base + "Reserve_Rules", base + "Seal_Watching"]
    assert second.cursor is not None and first.cursor is not None and second.cursor > first.cursor


@pytest.mark.integration
def test_changes_in_the_cursors_own_second_are_handled_once() -> None:
    # every change stamped with the same second as the cursor: recentchanges' rcstart is inclusive, so the
    # last second comes back on the next run; an already-reported deletion must not be reported again
    with MediaWikiServer(step=timedelta(0)) as srv:
        opts = {"api_url": srv.base_url + "/w/api.php"}
        first = run_connector("mediawiki", opts)
        srv.edit_page("Tide Pools", "Tide pools are full of life.")
        srv.delete_page("Seal Watching")
        second = run_connector("mediawiki", opts, mode="incremental", since=first.cursor)
        third = run_connector("mediawiki", opts, mode="incremental", since=second.cursor)
        srv.edit_page("Reserve Rules", "Dogs stay on the lead.")  # later, in that same second
        fourth = run_connector("mediawiki", opts, mode="incremental", since=second.cursor)
    base = f"{srv.base_url}/wiki/"
    assert sorted(second.documents()) == [base + "Tide_Pools"]
    assert second.deletions() == [base + "Seal_Watching"]
    assert (third.documents(), third.deletions(), third.cursor) == ({}, [], None)  # nothing new: cursor kept
    assert sorted(fourth.documents()) == [base + "Reserve_Rules"] and fourth.deletions() == []
    assert first.cursor is not None and second.cursor is not None and fourth.cursor is not None
    assert second.cursor.split()[0] == first.cursor == fourth.cursor.split()[0]  # the same second throughout


@pytest.mark.integration
def test_rendered_mode_uses_parse() -> None:
    with MediaWikiServer() as srv:
        result = run_connector("mediawiki", {"api_url": srv.base_url + "/w/api.php", "content": "rendered"})
    doc = result.documents()[f"{srv.base_url}/wiki/Main_Page"]
    assert doc["html"].startswith('<div class="mw-parser-output">') and doc["text"] is None
