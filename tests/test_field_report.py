"""Field-name reports in the run report, `fields` command declarations, binary documents' fields."""

from __future__ import annotations

import io
from typing import Any

import pytest

from crawler.commands.fields import declarations
from crawler.config import Settings
from crawler.errors import SettingsError
from crawler.model import Document
from crawler.pushapi.body import document_body
from crawler.report import RunReport, apply_field_stats, print_summary
from pipelines.fields import FieldMapper


def test_report_collects_names_from_stats() -> None:
    report = RunReport(
        "demo",
        "full",
        "finished",
        1,
        {"fetched": 0, "documents": 0, "pushed": 0, "unchanged": 0, "deleted": 0, "dropped": 0, "errors": 0},
        0,
        0.1,
    )
    stats = {
        "pushcrawl/fields/collected_only/section": 3,
        "pushcrawl/fields/collected_only/confidentiality": 2,
        "pushcrawl/fields/renamed/Og:Title -> og_title": 5,
        "pushcrawl/fields/rejected/!!!": 1,
    }
    apply_field_stats(report, stats)
    assert report.collected_not_indexed == ["confidentiality", "section"]
    assert report.extra["fields"] == {"renamed": {"Og:Title": "og_title"}, "rejected": ["!!!"]}
    out = io.StringIO()
    print_summary(report, out)
    assert "collected, not indexed (no field): confidentiality, section" in out.getvalue()
    assert "field names renamed: Og:Title → og_title · rejected: !!!" in out.getvalue()


def _settings(**sites: Any) -> Settings:
    return Settings.model_validate(
        {
            "field_defaults": {"declare": {"region": "string"}},
            "sites": {name: {"connector": "sitemap", "fields": {"declare": d}} for name, d in sites.items()},
        }
    )


def test_declarations_merge_sites_and_defaults() -> None:
    found = declarations(_settings(a={"year": "integer"}, b={"year": "integer", "tags": "list"}), [])
    assert list(found) == ["region", "tags", "year"]
    assert found["tags"].index_spec("tags")["multiValueFacet"] is False
    assert found["year"].index_spec("year")["type"] == "LONG"


def test_conflicting_declarations_are_an_error() -> None:
    with pytest.raises(SettingsError) as info:
        declarations(_settings(a={"year": "integer"}, b={"year": "string"}), [])
    assert "sites.b.fields.declare.year" in str(info.value)


def test_binary_document_keeps_its_extension_for_the_converter() -> None:
    doc = Document(
        document_id="https://x.example/files/terms.pdf",
        binary=b"%PDF-1.4 ...",
        file_extension=".pdf",
        title="terms.pdf",
    )
    doc.fields = FieldMapper(_settings(demo={}), "demo").map(doc).fields
    body = document_body(doc)
    assert body["fileExtension"] == ".pdf" and body["filetype"] == "pdf" and "compressedBinaryData" in body
    assert "data" not in body
