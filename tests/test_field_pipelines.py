"""The extract, fields and permissions pipelines inside a Scrapy crawler with a run context: settings read
from the site, stats counted per reason and per name, collapse groups handed to the identity push."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem

from crawler import signals
from crawler.config import Settings
from crawler.model import Document, IdentityType, PermissionIdentity, Permissions
from pipelines.acl import MAX_PERMISSIONS
from pipelines.extract import ExtractPipeline
from pipelines.fields import FieldsPipeline
from pipelines.permissions import PermissionsPipeline
from tests.helpers.runs import pipeline_crawler

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


def _crawler(tmp_path: Path, **site: Any) -> Any:
    settings = Settings.model_validate({"sites": {"demo": {"connector": "sitemap", **site}}})
    return pipeline_crawler(tmp_path, settings=settings, site_name="demo")


def test_extract_and_fields_use_the_site_settings(tmp_path: Path) -> None:
    crawler = _crawler(
        tmp_path,
        extract={"selectors": {"byline": {"css": "p.byline"}}},
        fields={"declare": {"taxonomy": "string"}, "rules": [{"template": {"taxonomy": "{category}/{slug}"}}]},
    )
    path = DEMO / "policies/incident-response.html"
    doc = Document(document_id=path.as_uri(), html=path.read_text("utf-8"))
    doc.metadata["Bad Name"] = "x"
    doc = FieldsPipeline(crawler).process_item(ExtractPipeline(crawler).process_item(doc))
    assert doc.fields["taxonomy"] == "Security/incident-response"
    assert str(doc.fields["byline"]).startswith("Published")
    assert "confidentiality" in doc.collected_only and "taxonomy" not in doc.collected_only
    stats = crawler.stats
    assert stats.get_value("pushcrawl/fields/renamed/Bad Name -> bad_name") == 1
    assert stats.get_value("pushcrawl/fields/collected_only/confidentiality") == 1


def test_permissions_pipeline_drops_with_reason_and_collapses(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path, security={"mode": "content_system", "over_limit": "collapse"})
    pipeline = PermissionsPipeline(crawler)
    made: list[Any] = []
    crawler.signals.connect(lambda identity: made.append(identity), signal=signals.identity_needed, weak=False)
    with pytest.raises(DropItem, match="no_permissions"):
        pipeline.process_item(Document(document_id="https://x.example/a"))
    assert crawler.stats.get_value("pushcrawl/dropped/no_permissions") == 1
    users = [PermissionIdentity(identity=f"u{i}", identity_type=IdentityType.USER) for i in range(MAX_PERMISSIONS + 1)]
    for doc_id in ("https://x.example/b", "https://x.example/c"):  # same ACL twice: one group pushed
        doc = pipeline.process_item(Document(document_id=doc_id, permissions=Permissions.single_set(users)))
        assert doc.effective_permissions.identity_count() == 1
    assert [i.type for i in made] == ["VirtualGroup"]
    assert crawler.stats.get_value("pushcrawl/permissions/collapsed") == 2
