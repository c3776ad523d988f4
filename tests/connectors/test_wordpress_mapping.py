"""Offline tests of connectors.wordpress.mapping on the saved samples (``_embed`` form from the fixture)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.wordpress import mapping
from crawler.model import IdentityType, Permissions
from tests.fixtures.wordpress_server import WordPressServer

ROLES = ["administrator", "editor"]


@pytest.fixture(scope="module")
def site() -> WordPressServer:
    return WordPressServer()  # not started: only its sample data and _embed are used


def obj(site: WordPressServer, collection: str, id_: int) -> dict[str, Any]:
    return site.embed(next(o for o in site.data[collection] if o["id"] == id_))


def test_public_post_fields(site: WordPressServer) -> None:
    doc = mapping.map_post(obj(site, "posts", 101), ROLES)
    assert doc is not None
    assert doc.document_id == doc.clickable_uri == "http://wp.example.test/2024/04/01/hello-search/"
    assert doc.title == "Hello, Search \u2013 a first look"  # entity decoded
    assert doc.author == "Jane Editor"
    assert doc.date is not None and doc.date.utcoffset() is not None and doc.date.day == 1
    assert doc.modified is not None and doc.modified.month == 5
    assert doc.html is not None and "<strong>search</strong>" in doc.html
    md = doc.metadata
    assert md["categories"] == ["News"] and md["tags"] == ["search", "coveo"]
    assert md["post_type"] == "post" and md["slug"] == "hello-search" and md["status"] == "publish"
    assert md["sticky"] is True and md["excerpt"] == "Our intranet now has search."
    assert doc.permissions == Permissions.everyone()


def test_term_names_are_unescaped(site: WordPressServer) -> None:
    doc = mapping.map_post(obj(site, "posts", 102), ROLES)
    assert doc is not None and doc.metadata["categories"] == ["Reports & Results"]


def test_private_post_allows_author_and_roles_only(site: WordPressServer) -> None:
    doc = mapping.map_post(obj(site, "posts", 103), ROLES)
    assert doc is not None and doc.title == "Team offsite plans"  # "Private: " marker dropped
    assert doc.permissions is not None
    (pset,) = doc.permissions.levels[0].sets
    assert not pset.allow_anonymous
    assert [(i.identity, i.identity_type) for i in pset.allowed] == [
        ("bob", IdentityType.USER),
        ("role:administrator", IdentityType.GROUP),
        ("role:editor", IdentityType.GROUP),
    ]


@pytest.mark.parametrize("mode", ["skip", "title_only", "full"])
def test_protected_post_modes(site: WordPressServer, mode: mapping.ProtectedMode) -> None:
    post = obj(site, "posts", 104)
    post["content"]["rendered"] = "<p>members text</p>"  # what an editor's request would return
    doc = mapping.map_post(post, ROLES, protected=mode)
    if mode == "skip":
        assert doc is None
        return
    assert doc is not None and doc.title == "Members only" and doc.metadata["password_protected"] is True
    if mode == "title_only":
        assert doc.html is None and doc.text == "Members only"
    else:
        assert doc.html == "<p>members text</p>"


def test_custom_post_type_and_taxonomy(site: WordPressServer) -> None:
    doc = mapping.map_post(obj(site, "books", 301), ROLES)
    assert doc is not None
    assert doc.metadata["post_type"] == "book" and doc.metadata["taxonomy_genre"] == ["Non-fiction"]
    assert "categories" not in doc.metadata


def test_page_without_terms(site: WordPressServer) -> None:
    doc = mapping.map_post(obj(site, "pages", 201), ROLES)
    assert doc is not None and doc.author == "Site Admin" and doc.metadata["post_type"] == "page"
    assert "tags" not in doc.metadata  # empty lists are left out


def test_hidden_author_is_not_an_error(site: WordPressServer) -> None:
    post = obj(site, "posts", 103)
    post["_embedded"]["author"] = [{"code": "rest_user_invalid_id", "message": "Invalid user ID."}]
    doc = mapping.map_post(post, ROLES)
    assert doc is not None and doc.author is None
    assert doc.permissions is not None
    assert [i.identity for i in doc.permissions.levels[0].sets[0].allowed] == [
        "role:administrator",
        "role:editor",
    ]


def test_media_document(site: WordPressServer) -> None:
    media = next(m for m in site.data["media"] if m["id"] == 501)
    doc = mapping.map_media(media, b"%PDF-1.4", "http://wp.example.test/parent/", Permissions.everyone())
    assert doc.file_extension == ".pdf" and doc.binary == b"%PDF-1.4"
    assert doc.parent_id == "http://wp.example.test/parent/"
    assert doc.clickable_uri is not None and doc.clickable_uri.endswith("/q1-report.pdf")
    assert doc.metadata["mime_type"] == "application/pdf" and doc.title == "Q1 report (PDF)"


def test_identities_users_aliased_and_roles_as_groups(site: WordPressServer) -> None:
    items = {i.name: i for i in mapping.map_identities(site.data["users"], ROLES)}
    assert set(items) == {"admin", "jane", "bob", "role:administrator", "role:editor"}
    jane = items["jane"]
    assert jane.type == "User"
    assert jane.email == "jane@example.test" and jane.mappings == []
    assert [m.name for m in items["role:editor"].members] == ["jane"]
    assert [m.name for m in items["role:administrator"].members] == ["admin"]
    assert items["role:editor"].type == "Group"
