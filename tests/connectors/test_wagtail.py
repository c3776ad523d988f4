"""Wagtail connector: offline mapping from saved samples, and crawls of the fixture API (paging, increments)."""

from __future__ import annotations

import json

import pytest

from connectors.wagtail import client, files, mapping
from tests.fixtures.crawl import run_connector
from tests.fixtures.wagtail_server import SAMPLES, WagtailServer

BASE = "http://wagtail.example"


def _page(page_id: int) -> dict:
    return next(p for p in json.loads((SAMPLES / "pages.json").read_text()) if p["id"] == page_id)


def test_streamfield_page_maps_body_path_tags_and_authors() -> None:
    doc = mapping.page_document(_page(5), BASE)
    assert doc.document_id == f"{BASE}/news/winter-reading-club/"
    assert doc.metadata["page_path"] == "/news/winter-reading-club/"
    assert doc.metadata["parent_title"] == "News"
    assert doc.metadata["tags"] == ["events", "reading"]
    assert doc.metadata["page_type"] == "blog.BlogPage"
    assert doc.author == "Mara Quinn"
    assert doc.language == "en"
    assert "reading passport" in (doc.html or "")
    assert "Reading is dreaming" in (doc.html or "")  # StructBlock values are body too
    assert doc.modified is not None and doc.modified.isoformat() == "2024-01-09T10:00:00+00:00"


def test_offset_timestamps_normalise_to_utc_cursor() -> None:
    published = mapping.published_at(_page(6))
    assert published is not None
    assert mapping.cursor_value(published) == "2024-01-20T13:00:00.000000Z"


def test_body_fields_option_limits_the_body() -> None:
    doc = mapping.page_document(_page(5), BASE, body_fields=["intro"])
    assert doc.html == "<p>Six weeks, six books, one cosy room.</p>"


def test_listing_shape_is_checked() -> None:
    with pytest.raises(ValueError, match="total_count"):
        client.listing_items({"items": []}, "u")
    assert list(client.remaining_offsets(45, 20)) == [20, 40]


def test_ping_explains_wrong_url() -> None:
    from crawler.errors import ConnectorError

    with WagtailServer() as srv, pytest.raises(ConnectorError, match=r"wagtail\.api\.v2 is enabled"):
        client.ping(client.WagtailOptions(base_url=srv.base_url, api_path="/nope/"))


@pytest.mark.integration
def test_full_crawl_pages_assets_and_listing() -> None:
    with WagtailServer() as srv:
        srv.fail("/api/v2/pages/", 429, Retry_After="1")  # ping waits
        srv.fail("/api/v2/documents/", 503, Retry_After="1")  # the crawl waits, then retries
        result = run_connector("wagtail", {"base_url": srv.base_url, "page_size": 4})
    docs = result.documents()
    assert len(docs) == 8  # 6 pages, 1 image, 1 document
    assert docs[f"{srv.base_url}/documents/1/library-rules.pdf"]["file_extension"] == ".pdf"
    assert docs[f"{srv.base_url}/media/original_images/reading-club.png"]["binary_size"] > 0
    assert sorted(result.listed_ids) == sorted(docs)
    assert result.listing_errors == []
    pages, validators = files.load_cursor(result.cursor)
    assert pages == "2024-02-01T12:00:00.000000Z"
    pdf, png = f"{srv.base_url}/documents/1/library-rules.pdf", f"{srv.base_url}/media/original_images/reading-club.png"
    assert set(validators) == {pdf, png} and validators[pdf]["etag"] == srv.etag(
        srv.files["/documents/1/library-rules.pdf"][1]
    )
    assert result.stats.get("pushcrawl/retry_after_waits") == 1


@pytest.mark.integration
def test_incremental_fetches_only_newer_pages_and_lists_all() -> None:
    with WagtailServer() as srv:
        srv.change_page(7, "<p>Now with maps.</p>")
        srv.remove_page(8)
        result = run_connector(
            "wagtail",
            {"base_url": srv.base_url, "images": False, "documents": False},
            mode="incremental",
            since="2024-02-01T12:00:00.000000Z",
        )
    assert list(result.documents()) == [f"{srv.base_url}/news/seaside-archive-digitised/"]
    assert f"{srv.base_url}/about/" not in result.listed_ids
    assert len(result.listed_ids) == 5
    assert files.load_cursor(result.cursor)[0] == "2024-03-01T09:00:00.000000Z"  # read a bare (older) cursor


@pytest.mark.integration
def test_typed_listing_needs_no_detail_calls_and_stock_wagtail_fetches_all() -> None:
    with WagtailServer(last_published_at=False, images=False) as srv:
        typed = run_connector(
            "wagtail", {"base_url": srv.base_url, "page_types": ["blog.BlogPage"], "documents": False}
        )
        assert len(typed.documents()) == 3
        assert not any("/api/v2/pages/5/" in r.target for r in srv.requests)
        stock = run_connector(
            "wagtail",
            {"base_url": srv.base_url, "documents": False},
            mode="incremental",
            since="2030-01-01T00:00:00.000000Z",
        )
    assert len(stock.documents()) == 6  # no last_published_at: every page fetched, downstream skips unchanged
