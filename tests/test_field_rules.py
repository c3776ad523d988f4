"""The field mapping engine: every rule type, every transform, type coercion, declarations, name reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from crawler.config import Settings
from crawler.model import Document
from pipelines.fields import FieldMapper, Mapped


def _map(
    metadata: dict[str, Any], rules: list[Any] | None = None, declare: Any = None, defaults: Any = None, **doc: Any
) -> Mapped:
    fields: dict[str, Any] = {"rules": rules or []}
    if declare is not None:
        fields["declare"] = declare
    data: dict[str, Any] = {"sites": {"demo": {"connector": "sitemap", "fields": fields}}}
    if defaults is not None:
        data["field_defaults"] = defaults
    settings = Settings.model_validate(data)
    document = Document(document_id=doc.pop("document_id", "https://x.example/hr/salary-bands.html"), **doc)
    document.metadata = metadata  # assigned, not validated: pipelines see whatever a connector put there
    return FieldMapper(settings, "demo").map(document)


def test_standard_fields_filled_from_the_document() -> None:
    out = _map(
        {},
        title="T",
        author="A",
        language="en",
        file_extension=".PDF",
        date=datetime(2025, 1, 10, 9, tzinfo=UTC),
        clickable_uri="https://x.example/p",
    )
    f = out.fields
    assert (f["title"], f["author"], f["language"], f["filetype"]) == ("T", "A", "en", "pdf")
    assert f["date"] == "2025-01-10T09:00:00Z" and f["clickableuri"] == "https://x.example/p"
    assert len(str(f["permanentid"])) == 60


def test_names_normalised_renamed_and_rejected_are_reported() -> None:
    out = _map({"Og:Title": "x", "2nd": "y", "!!!": "z", "data": "reserved", "obj": {"a": 1}})  # type: ignore[dict-item]
    assert out.fields["og_title"] == "x" and out.fields["f_2nd"] == "y"
    assert out.renamed == {"Og:Title": "og_title", "2nd": "f_2nd"}
    assert sorted(out.rejected) == ["!!!", "data", "obj"]
    assert any("'!!!' rejected" in n for n in out.notes)


def test_rename_copy_constant_drop() -> None:
    out = _map(
        {"category": "HR", "robots": "noindex", "og_a": 1, "og_b": 2},
        [
            {"rename": {"category": "taxonomy"}},
            {"copy": {"taxonomy": "section"}},
            {"constant": {"source_system": "intranet", "flags": ["a", "b"]}},
            {"drop": ["robots", "og_*"]},
        ],
    )
    assert out.fields["taxonomy"] == "HR" and out.fields["section"] == "HR" and "category" not in out.fields
    assert out.fields["source_system"] == "intranet" and out.fields["flags"] == ["a", "b"]
    assert not {"robots", "og_a", "og_b"} & set(out.fields)


def test_template_uses_fields_and_url_context() -> None:
    out = _map(
        {"Category": "HR", "tags": ["a", "b"]},
        [{"template": {"taxonomy": "{Category}/{slug}", "where": "{host}|{path}|{site}|{tags}"}}],
    )
    assert out.fields["taxonomy"] == "HR/salary-bands"
    assert out.fields["where"] == "x.example|hr/salary-bands.html|demo|a;b"


def test_template_missing_key_skips_with_a_note_naming_site_and_rule() -> None:
    out = _map({}, [{"constant": {"a": 1}}, {"template": {"taxonomy": "{category}/{slug}"}}])
    assert "taxonomy" not in out.fields
    assert out.notes == ["sites.demo.fields.rules[1] (template taxonomy): key 'category' missing; rule skipped"]


def test_field_defaults_rules_run_first_and_are_named() -> None:
    out = _map(
        {"x": "1"}, [{"copy": {"y": "z"}}], defaults={"rules": [{"copy": {"x": "y"}}, {"template": {"t": "{nope}"}}]}
    )
    assert out.fields["z"] == "1"
    assert "field_defaults.rules[1] (template t)" in out.notes[0]


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        ("42", "integer", 42),
        ("1,200", "integer", 1200),
        (3.0, "integer", 3),
        ("2.5", "float", 2.5),
        ("yes", "boolean", True),
        ("0", "boolean", False),
        (True, "string", "true"),
        (7, "string", "7"),
        ("2025-01-10", "date", "2025-01-10T00:00:00Z"),
        ("2025/01/10 11:53:12", "date", "2025-01-10T11:53:12Z"),
        ("2025-01-10T09:00:00+01:00", "date", "2025-01-10T08:00:00Z"),
        ("Fri, 10 Jan 2025 08:00:00 GMT", "date", "2025-01-10T08:00:00Z"),
        (1736496000, "date", "2025-01-10T08:00:00Z"),
        ("a", "list", ["a"]),
        (["1", "2"], "list[integer]", [1, 2]),
        (["x"], "string", "x"),
    ],
)
def test_coerce(value: Any, type_: str, expected: Any) -> None:
    assert _map({"v": value}, [{"coerce": {"v": type_}}]).fields["v"] == expected


@pytest.mark.parametrize(
    ("value", "type_"),
    [
        ("abc", "integer"),
        ("2.5", "integer"),
        ("maybe", "boolean"),
        ("soon", "date"),
        ("x", "float"),
        (["a", "b"], "string"),
    ],
)
def test_coerce_failure_keeps_value_and_notes(value: Any, type_: str) -> None:
    out = _map({"v": value}, [{"coerce": {"v": type_}}])
    assert out.fields["v"] == value
    assert "sites.demo.fields.rules[0] (coerce v)" in out.notes[0]


@pytest.mark.parametrize(
    ("value", "steps", "expected"),
    [
        ("Hello World", ["lowercase"], "hello world"),
        ("Hello", ["uppercase"], "HELLO"),
        ("  a  ", ["strip"], "a"),
        ("a \n  b", ["collapse_whitespace"], "a b"),
        ("<p>Fish &amp; <b>chips</b></p>", ["strip_html"], "Fish & chips"),
        ("a, b,,c", [{"split": ","}, "strip"], ["a", "b", "c"]),
        (["a", "b"], [{"join": " / "}], "a / b"),
        (["a", "b", "a"], ["unique"], ["a", "b"]),
        (["a", "b"], ["first"], "a"),
        ("SKU-1234 blue", [{"regex_extract": r"SKU-(\d+)"}], "1234"),
        ("v4.3 notes", [{"regex_extract": r"v\d+\.\d+"}], "v4.3"),
        (["SKU-1", "none", "SKU-2"], [{"regex_extract": r"SKU-(\d)"}], ["1", "2"]),
        ("2025-01-10", [{"regex_replace": {"pattern": r"(\d+)-(\d+)-(\d+)", "with": r"\3.\2.\1"}}], "10.01.2025"),
    ],
)
def test_transforms(value: Any, steps: list[Any], expected: Any) -> None:
    assert _map({"v": value}, [{"transform": {"v": steps}}]).fields["v"] == expected


def test_transform_that_yields_nothing_removes_the_field() -> None:
    out = _map({"v": "no digits"}, [{"transform": {"v": [{"regex_extract": r"\d+"}]}}])
    assert "v" not in out.fields


def test_declared_types_coerce_and_collected_not_indexed() -> None:
    out = _map(
        {"year": "2025", "tags": "solo", "confidentiality": "internal", "bad_int": "x"},
        declare={"year": "integer", "tags": {"type": "string", "multi_value": True}, "bad_int": "integer"},
    )
    assert out.fields["year"] == 2025 and out.fields["tags"] == ["solo"]
    assert "bad_int" not in out.fields and out.invalid == 1
    assert out.collected_only == ["confidentiality"]  # standard fields (title, permanentid…) never listed


def test_no_declarations_means_no_collected_only_list() -> None:
    assert _map({"anything": "x"}).collected_only == []
