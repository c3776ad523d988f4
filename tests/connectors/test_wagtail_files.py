"""Wagtail images and documents replaced in place (same id, same URL, new bytes) are found by incremental runs.

The connector crawls the fixture site directly (``run_connector``) to show which requests each change signal
costs — a conditional GET answered 304, or no request at all when the API exposes ``file_hash`` — and the real
CLI crawls it into the local Push API to show the index ends up with the new files and nothing else re-pushed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from connectors.wagtail import files
from crawler.errors import Unchanged
from crawler.model import Document
from tests.connectors.e2e import Site
from tests.fixtures.crawl import run_connector
from tests.fixtures.wagtail_server import WagtailServer, text_pdf

PDF = "/documents/1/library-rules.pdf"
PNG = "/media/original_images/reading-club.png"
MAP_PDF = "/documents/2/opening-hours.pdf"
MAP_PNG = "/media/original_images/floor-plan.png"
NEW_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200  # a different, larger image


def _add_unchanged_files(srv: WagtailServer) -> None:
    """A second document and image that nobody replaces: they must not be downloaded again."""
    srv.add_asset("documents", "Opening hours", MAP_PDF, "application/pdf", text_pdf("Open daily from nine"))
    srv.add_asset("images", "Floor plan", MAP_PNG, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x01" * 50)


def test_cursor_round_trip_and_older_cursors() -> None:
    validators = {"http://x/documents/1/a.pdf": {"etag": '"abc"'}, "http://x/i.png": {"sha1": "0f"}}
    assert files.load_cursor(files.dump_cursor("2024-01-01T00:00:00.000000Z", validators)) == (
        "2024-01-01T00:00:00.000000Z",
        validators,
    )
    assert files.load_cursor("2024-01-01T00:00:00.000000Z") == ("2024-01-01T00:00:00.000000Z", {})
    assert files.load_cursor(None) == (None, {})
    assert files.load_cursor('{"pages": 3, "files": {"u": "not a dict", "v": {"etag": 1}}}') == (None, {})
    assert files.load_cursor("{broken") == (None, {})
    assert files.conditional_headers({"etag": '"abc"', "modified": "Tue, 02 Jan 2024 08:00:00 GMT"}) == {
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Tue, 02 Jan 2024 08:00:00 GMT",
    }


@pytest.mark.integration
def test_conditional_get_fetches_only_the_replaced_files() -> None:
    with WagtailServer() as srv:
        _add_unchanged_files(srv)
        options = {"base_url": srv.base_url}
        first = run_connector("wagtail", options)
        known = list(first.documents())
        srv.replace_file(PDF, text_pdf("Library rules: no quokkabrine in the reading room"))
        srv.replace_file(PNG, NEW_PNG)
        srv.downloads.clear()
        second = run_connector("wagtail", options, mode="incremental", since=first.cursor, known_ids=known)
        unchanged_requests = [r for r in srv.requests if r.target in (MAP_PDF, MAP_PNG)]
        base = srv.base_url
    assert sorted(second.documents()) == [base + PDF, base + PNG]
    assert second.documents()[base + PNG]["binary_size"] == len(NEW_PNG)
    assert dict(srv.downloads) == {PDF: 1, PNG: 1}  # the unchanged files were asked, answered 304, not sent
    assert len(unchanged_requests) == 4  # one download each in the first run, one conditional GET each now
    assert second.stats.get("pushcrawl/wagtail/files_unchanged") == 2
    assert sorted(second.listed_ids) == sorted(first.listed_ids)  # nothing looks deleted
    old, new = files.load_cursor(first.cursor)[1], files.load_cursor(second.cursor)[1]
    assert new[base + MAP_PDF] == old[base + MAP_PDF] and new[base + PDF] != old[base + PDF]


@pytest.mark.integration
def test_file_hash_in_the_api_skips_unchanged_files_without_a_request() -> None:
    with WagtailServer(file_hash=True) as srv:
        _add_unchanged_files(srv)
        options = {"base_url": srv.base_url}
        first = run_connector("wagtail", options)
        srv.replace_file(PDF, text_pdf("Library rules: quiet please"))
        srv.requests.clear()
        second = run_connector(
            "wagtail", options, mode="incremental", since=first.cursor, known_ids=list(first.documents())
        )
        asked = [r.target for r in srv.requests if not r.target.startswith("/api/")]
        base = srv.base_url
    assert list(second.documents()) == [base + PDF]
    assert asked == [PDF]  # the image and the other document were not requested at all
    validators = files.load_cursor(second.cursor)[1]
    assert validators[base + PDF] == {"sha1": hashlib.sha1(text_pdf("Library rules: quiet please")).hexdigest()}


@pytest.mark.integration
def test_a_file_the_index_does_not_hold_is_downloaded_whatever_its_validator() -> None:
    with WagtailServer(validators=False) as srv:
        first = run_connector("wagtail", {"base_url": srv.base_url, "images": False})
        assert files.load_cursor(first.cursor)[1] == {}  # no ETag, no Last-Modified: nothing to compare
        # the document was never acknowledged (not in known_ids): a recorded validator must not skip it
        since = files.dump_cursor(None, {srv.base_url + PDF: {"etag": srv.etag(srv.files[PDF][1])}})
        srv.downloads.clear()
        second = run_connector(
            "wagtail", {"base_url": srv.base_url, "images": False}, mode="incremental", since=since, known_ids=[]
        )
        third = run_connector(  # a server without validators: every run downloads, fingerprints decide
            "wagtail",
            {"base_url": srv.base_url, "images": False},
            mode="incremental",
            since=first.cursor,
            known_ids=[srv.base_url + PDF],
        )
    assert srv.base_url + PDF in second.documents() and srv.base_url + PDF in third.documents()
    assert srv.downloads[PDF] == 2


class RefuseImagesPassDocumentsUnchanged:
    """A stand-in for the pipelines: images are refused (as a size cap would), documents found unchanged."""

    def process_item(self, item: object) -> object:
        if isinstance(item, Document) and item.file_extension == ".png":
            raise DropItem(f"too_large: {item.document_id}")
        if isinstance(item, Document) and item.file_extension == ".pdf":
            raise Unchanged(f"unchanged: {item.document_id}")
        return item


@pytest.mark.integration
def test_a_refused_file_keeps_no_validator_so_the_next_run_fetches_it_again() -> None:
    pipeline = f"{__name__}.{RefuseImagesPassDocumentsUnchanged.__name__}"
    with WagtailServer() as srv:
        result = run_connector("wagtail", {"base_url": srv.base_url}, settings={"ITEM_PIPELINES": {pipeline: 100}})
        base = srv.base_url
    assert set(files.load_cursor(result.cursor)[1]) == {base + PDF}  # not the refused image


def _indexed(site: Site) -> dict[str, tuple[int, int]]:
    """document id → (ordering id, stored size) from the local Push API's own tables."""
    db = sqlite3.connect(site.folder / "local-index" / "localapi.sqlite3")
    try:
        rows = db.execute("SELECT document_id, ordering_id, fields FROM items").fetchall()
    finally:
        db.close()
    return {doc_id: (ordering, int(json.loads(fields).get("size") or 0)) for doc_id, ordering, fields in rows}


@pytest.mark.integration
@pytest.mark.slow
def test_replaced_files_reach_the_index_and_nothing_else_is_pushed(tmp_path: Path) -> None:
    with WagtailServer() as srv:
        _add_unchanged_files(srv)
        # Wagtail's API exposes no permissions
        site = Site.create(tmp_path, "cms", "wagtail", {"base_url": srv.base_url}, security="everyone")
        first = site.crawl()
        assert first["status"] == "finished" and first["counts"]["pushed"] == 10  # 6 pages, 2 images, 2 documents
        assert site.search("quokkabrine") == []
        srv.replace_file(PDF, text_pdf("Library rules: no quokkabrine in the reading room"))
        srv.replace_file(PNG, NEW_PNG)
        srv.downloads.clear()
        second = site.crawl()
        base = srv.base_url
    assert second["mode"] == "incremental" and second["status"] == "finished", second
    assert second["counts"]["pushed"] == 2 and second["counts"]["deleted"] == 0
    indexed = _indexed(site)
    pushed_now = sorted(d for d, (ordering, _) in indexed.items() if ordering == second["ordering_id"])
    assert pushed_now == [base + PDF, base + PNG]
    assert indexed[base + PNG][1] == len(NEW_PNG)
    (hit,) = site.search("quokkabrine")
    assert hit["uri"] == base + PDF
    assert dict(srv.downloads) == {PDF: 1, PNG: 1}  # the two unchanged files were not downloaded again
