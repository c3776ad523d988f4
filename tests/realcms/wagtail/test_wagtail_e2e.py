"""A real Wagtail 8 site, crawled by the real CLI into the local Push API: what its API lists, nothing more.

The bed (``bed.py``, seeded by ``site/content/management/commands/seed.py``) has live public pages, a draft,
a page with an unpublished newer revision, pages behind group, login and password restrictions (and a child
of one), non-ASCII titles and slugs, an image and a document. Expected counts come from the bed itself (its
API, its database), never from numbers written here. The tests share one index and run in file order: the
last one edits the site. The wagtail connector reads permissions from nowhere (``supports_permissions`` is
off: Wagtail's API lists only public pages), so there is no ``content_system`` run: what is restricted must
simply never reach the index, for anyone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.connectors.e2e import Site
from tests.realcms.wagtail.bed import Bed
from tests.realcms.wagtail.conftest import api_listing, collected

pytestmark = [pytest.mark.realcms, pytest.mark.timeout(1200)]  # the first test installs and seeds the bed

# the bed's seed gives each restricted or unpublished page one word of its own (seed.py SECRET_TOKENS)
SECRET_TOKENS = {
    "draftonlytoken",
    "unpublishedrevisiontoken",
    "staffonlytoken",
    "membersonlytoken",
    "newsletteronlytoken",
    "boardonlytoken",
}
ORM_PUBLIC = (
    "from wagtail.models import Page; "
    "print(Page.objects.live().public().filter(depth__gt=1).count())"  # depth 1 is the tree's invisible root
)


@pytest.fixture(scope="module")
def crawled(bed: Bed, tmp_path_factory: pytest.TempPathFactory) -> tuple[Site, dict[str, Any]]:
    """The bed crawled once, anonymously, with default options (what a new user would configure)."""
    site = Site.create(tmp_path_factory.mktemp("wagtail"), "bed", "wagtail", {"base_url": bed.base_url}, "everyone")
    return site, site.crawl()


def _expected_ids(bed: Bed) -> set[str]:
    pages = {p["meta"]["html_url"] for p in api_listing(bed, "pages")}
    files = {
        bed.base_url + a["meta"]["download_url"].removeprefix(bed.base_url)
        for e in ("images", "documents")
        for a in api_listing(bed, e)
    }
    return pages | files


def test_full_run_indexes_exactly_what_the_api_lists(bed: Bed, crawled: tuple[Site, dict[str, Any]]) -> None:
    site, report = crawled
    assert report["status"] == "finished" and report["counts"]["errors"] == 0, report
    pages = bed.api("pages/?limit=1")["meta"]["total_count"]  # type: ignore[index]
    assert (
        int(bed.manage("shell", "--no-imports", "-c", ORM_PUBLIC).split()[-1]) == pages
    )  # the API lists every live public page
    expected = _expected_ids(bed)
    assert report["counts"]["pushed"] == len(expected) == pages + 2  # + the image and the document
    assert set(collected(site.folder / "local-index")) == expected


def test_drafts_revisions_and_restricted_pages_are_never_indexed(crawled: tuple[Site, dict[str, Any]]) -> None:
    site, _ = crawled
    for token in sorted(SECRET_TOKENS):
        assert site.search(token) == [], token
    held = collected(site.folder / "local-index")
    paths = {d.get("page_path") for d in held.values()}
    assert not paths & {"/draft-plans/", "/staff-handbook/", "/members/", "/members/newsletter/", "/board-minutes/"}
    # the page whose newer revision is a draft is indexed with its live text
    assert {hit["title"] for hit in site.search("nine to five")} == {"Opening hours"}


def test_non_ascii_titles_slugs_and_text(bed: Bed, crawled: tuple[Site, dict[str, Any]]) -> None:
    site, _ = crawled
    (cafe,) = site.search("naïveté")
    assert cafe["title"] == "Café crème et naïveté"
    assert cafe["clickUri"] == f"{bed.base_url}/caf%C3%A9-cr%C3%A8me/"  # Wagtail's html_url, percent-encoded
    assert [hit["title"] for hit in site.search("œuvres bibliothécaire")] == ["Café crème et naïveté"]
    held = collected(site.folder / "local-index")
    assert held[cafe["uri"]]["slug"] == "café-crème"
    assert held[cafe["uri"]]["tags"] == ["français"]
    (japanese,) = site.search("図書館の案内")
    assert japanese["raw"]["author"] == "山田"


def test_images_and_documents_carry_the_documented_metadata(bed: Bed, crawled: tuple[Site, dict[str, Any]]) -> None:
    site, _ = crawled
    held = collected(site.folder / "local-index")
    for endpoint, kind in (("images", "image"), ("documents", "document")):
        for item in api_listing(bed, endpoint):
            url = bed.base_url + item["meta"]["download_url"].removeprefix(bed.base_url)
            doc = held[url]
            assert doc["asset_type"] == kind and doc["wagtail_id"] == item["id"]
            assert doc["title"] == item["title"] and doc["tags"] == item["meta"]["tags"]
            assert doc["filetype"] == Path(url).suffix.lstrip(".")
            if kind == "image":
                assert (doc["width"], doc["height"]) == (item["width"], item["height"])
    (rules,) = site.search("quiet please")  # the PDF's own text was extracted
    assert rules["title"] == "Library rules"


def test_incremental_pushes_and_deletes_exactly_the_changes(bed: Bed, crawled: tuple[Site, dict[str, Any]]) -> None:
    site, _ = crawled
    before = _expected_ids(bed)
    bed.manage("edit", "edit", "about", "The library now opens a reading garden, gardenwordtoken.")
    bed.manage("edit", "delete", "reading-club")
    bed.manage("edit", "add", "new-arrivals", "New arrivals", "Fresh shelves of arrivalwordtoken novels.")
    after = _expected_ids(bed)
    gone, new = before - after, after - before
    assert len(gone) == 1 and len(new) == 1
    report = site.crawl()
    assert report["mode"] == "incremental" and report["status"] == "finished", report
    assert report["counts"]["pushed"] == 2  # the edited page and the new one
    assert report["counts"]["deleted"] == 1 and set(report["deleted_ids"]) == gone
    pages = {i for i in after if not i.endswith((".png", ".pdf"))}
    assert report["counts"]["unchanged"] == len(pages) - 2  # the other pages, skipped by fingerprint
    # the image and the document were not downloaded again: Last-Modified / ETag validators got a 304
    assert report["counts"]["documents"] == len(pages)
    assert [h["title"] for h in site.search("gardenwordtoken")] == ["About the library"]
    assert site.uris("arrivalwordtoken") == new
    assert set(collected(site.folder / "local-index")) == after

    quiet = site.crawl()
    assert quiet["status"] == "finished" and quiet["counts"]["errors"] == 0, quiet
    assert quiet["counts"]["pushed"] == 0 and quiet["counts"]["deleted"] == 0
