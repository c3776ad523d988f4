"""Pipelines on their own: extraction from a demo page, field naming, permissions failing closed, fingerprints."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from crawler.config import SecurityConfig, SiteConfig
from crawler.context import get_context
from crawler.ledger import SqliteLedger
from crawler.model import Document, IdentityType, PermissionIdentity, Permissions
from crawler.pushapi.body import document_body
from pipelines.changes import ChangesPipeline
from pipelines.extract import ExtractPipeline
from pipelines.fields import FieldsPipeline, normalise_name
from pipelines.permissions import PermissionsPipeline
from tests.conftest import DEMO
from tests.helpers.runs import pipeline_crawler


def _crawler(tmp_path: Path, security: dict | None = None, mode: str = "incremental"):
    site = SiteConfig(connector="sitemap", security=SecurityConfig(**(security or {})))
    return pipeline_crawler(tmp_path, site, mode=mode)


def _demo_doc(name: str) -> Document:
    path = DEMO / name
    return Document(document_id=path.as_uri(), html=path.read_text(encoding="utf-8"))


def test_extract_takes_main_text_and_page_metadata(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    doc = ExtractPipeline(crawler).process_item(_demo_doc("articles/trail-shoe-care.html"))
    assert "zephyrine" in doc.text
    assert doc.title and doc.author and doc.date is not None
    assert doc.language == "en"
    assert doc.metadata["canonical_url"].startswith("https://intranet.northwind.example/")
    assert doc.metadata["category"]
    # boilerplate: the site navigation and footer text do not end up in the body
    assert "All rights reserved" not in doc.text
    assert "Search the intranet" not in doc.text
    assert crawler.stats.get_value("pushcrawl/documents") == 1


def test_extract_reads_declared_language(tmp_path: Path) -> None:
    doc = ExtractPipeline(_crawler(tmp_path)).process_item(_demo_doc("news/lager-leipzig-eroeffnet.html"))
    assert doc.language == "de"


def test_empty_page_is_dropped_and_counted(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    with pytest.raises(DropItem):
        ExtractPipeline(crawler).process_item(
            Document(document_id="https://x.org/e", html="<html><body></body></html>")
        )
    assert crawler.stats.get_value("pushcrawl/dropped/empty") == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Category", "category"), ("og:title", "og_title"), ("2nd-level", "f_2nd_level"), ("Data", None), ("!!!", None)],
)
def test_field_names_follow_the_push_api_rule(raw: str, expected: str | None) -> None:
    assert normalise_name(raw) == expected


def test_fields_pipeline_renames_rejects_and_notes(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    doc = Document(document_id="https://x.org/a", title="A", metadata={"Dept Name": "HR", "data": "x"})
    doc.metadata["nested"] = {"a": 1}  # type: ignore[assignment]  # a connector mutating after validation
    FieldsPipeline(crawler).process_item(doc)
    assert doc.fields["dept_name"] == "HR"
    assert "data" not in doc.fields and "nested" not in doc.fields
    assert doc.fields["clickableuri"] == "https://x.org/a" and len(str(doc.fields["permanentid"])) == 60
    assert crawler.stats.get_value("pushcrawl/fields/rejected") == 2
    assert any("renamed" in n for n in doc.notes)


def test_content_system_mode_fails_closed(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path, {"mode": "content_system"})
    pipeline = PermissionsPipeline(crawler)
    with pytest.raises(DropItem):
        pipeline.process_item(Document(document_id="https://x.org/secret", title="s"))
    assert crawler.stats.get_value("pushcrawl/dropped/no_permissions") == 1
    acl = Permissions.single_set([PermissionIdentity(identity="hr", identity_type=IdentityType.GROUP)])
    doc = pipeline.process_item(Document(document_id="https://x.org/ok", title="o", permissions=acl))
    body = document_body(doc)
    assert body["permissions"][0]["allowAnonymous"] is False
    assert body["permissions"][0]["allowedPermissions"] == [{"identity": "hr", "identityType": "Group"}]


def test_specific_mode_applies_settings_identities(tmp_path: Path) -> None:
    security = {"mode": "specific", "allowed": [{"identity": "staff"}], "denied": [{"identity": "bob", "type": "User"}]}
    doc = PermissionsPipeline(_crawler(tmp_path, security)).process_item(Document(document_id="https://x.org/a"))
    (pset,) = document_body(doc)["permissions"]
    assert pset["allowAnonymous"] is False
    assert pset["deniedPermissions"] == [{"identity": "bob", "identityType": "User"}]


def test_unchanged_items_skipped_only_in_incremental_runs(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    ctx = get_context(crawler)
    doc = Document(document_id="https://x.org/a", text="hello", fields={"title": "A"})
    first = ChangesPipeline(crawler)
    fp = first.process_item(doc.model_copy()).fingerprint
    ctx.state.commit_items(ctx.scope, 1, 1, [("https://x.org/a", fp)])
    ctx.ledger = SqliteLedger(tmp_path / "state.sqlite", 2)  # a new run: nothing seen yet
    second = ChangesPipeline(crawler)
    with pytest.raises(DropItem):
        second.process_item(doc.model_copy())
    assert crawler.stats.get_value("pushcrawl/unchanged") == 1
    ctx.ledger = SqliteLedger(tmp_path / "state.sqlite", 3)  # a new run: nothing seen yet
    changed = doc.model_copy(update={"text": "hello again"})
    assert second.process_item(changed).fingerprint != fp
    ctx.mode = "full"
    ctx.sweep_from = ctx.ordering_id  # a fresh full reindex (not resuming one): everything is pushed
    ctx.ledger = SqliteLedger(tmp_path / "state.sqlite", 4)  # a new run: nothing seen yet
    assert ChangesPipeline(crawler).process_item(doc.model_copy()) is not None
