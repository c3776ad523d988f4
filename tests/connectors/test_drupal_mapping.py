"""Offline tests of connectors.drupal.mapping on the saved JSON:API samples."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.drupal import mapping
from crawler.model import IdentityType, Permissions
from tests.fixtures.drupal_server import load

BASE = "http://drupal.example.test"
ROLES = ["administrator", "content_editor"]


@pytest.fixture(scope="module")
def included() -> dict[tuple[str, str], dict[str, Any]]:
    return mapping.index_included(load("user--user") + load("taxonomy_term--tags"))


def node(bundle: str, nid: int) -> dict[str, Any]:
    return next(n for n in load(f"node--{bundle}") if n["attributes"]["drupal_internal__nid"] == nid)


def test_published_article(included: dict[tuple[str, str], dict[str, Any]]) -> None:
    doc = mapping.map_node(node("article", 1), included, BASE, ["field_tags"], ROLES)
    assert doc.document_id == doc.clickable_uri == f"{BASE}/news/welcome"
    assert doc.title == "Welcome to the new intranet" and doc.author == "Jane Editor"
    assert doc.language == "en" and doc.date is not None and doc.date.utcoffset() is not None
    assert doc.html is not None and "<strong>search box</strong>" in doc.html
    assert doc.metadata["tags"] == ["Search", "News"] and doc.metadata["content_type"] == "article"
    assert doc.metadata["status"] == "published" and doc.metadata["nid"] == 1
    assert doc.metadata["summary"] == "The intranet is now searchable."
    assert doc.permissions == Permissions.everyone()


def test_node_without_alias_uses_node_path(included: dict[tuple[str, str], dict[str, Any]]) -> None:
    doc = mapping.map_node(node("article", 5), included, BASE + "/", ["field_tags"])
    assert doc.document_id == f"{BASE}/node/5" and "tags" not in doc.metadata


def test_unpublished_node_is_restricted_to_roles(included: dict[tuple[str, str], dict[str, Any]]) -> None:
    doc = mapping.map_node(node("article", 3), included, BASE, ["field_tags"], ROLES)
    assert doc.metadata["status"] == "unpublished" and doc.permissions is not None
    (pset,) = doc.permissions.levels[0].sets
    assert not pset.allow_anonymous
    assert [(i.identity, i.identity_type) for i in pset.allowed] == [
        ("role:administrator", IdentityType.GROUP),
        ("role:content_editor", IdentityType.GROUP),
    ]


def test_missing_included_author_is_tolerated() -> None:
    doc = mapping.map_node(node("page", 10), {}, BASE)
    assert doc.author is None and doc.title == "About the company" and doc.metadata["content_type"] == "page"


def test_node_without_nid_or_alias_fails_loudly() -> None:
    broken = node("article", 5)
    del broken["attributes"]["drupal_internal__nid"]
    with pytest.raises(KeyError):
        mapping.map_node(broken, {}, BASE)


def test_identities() -> None:
    items = {i.name: i for i in mapping.map_identities(load("user--user"), ROLES)}
    assert set(items) == {"admin", "jane", "bob", "role:administrator", "role:content_editor"}
    assert items["bob"].email == "bob@example.test" and items["bob"].mappings == []
    assert [m.name for m in items["role:content_editor"].members] == ["jane"]
    assert items["role:administrator"].type == "Group"
