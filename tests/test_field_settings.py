"""Settings errors for fields, extract and security: each names the file, the site and the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.config import load_settings
from crawler.errors import SettingsError


def _load(tmp_path: Path, site_extra: dict[str, Any], top: dict[str, Any] | None = None) -> Any:
    site = {"connector": "sitemap", "options": {"sitemap_urls": ["x.xml"]}, **site_extra}
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump({"sites": {"demo": site}, **(top or {})}), encoding="utf-8")
    return load_settings(str(path))


def _error(tmp_path: Path, site_extra: dict[str, Any], top: dict[str, Any] | None = None) -> str:
    with pytest.raises(SettingsError) as info:
        _load(tmp_path, site_extra, top)
    return str(info.value)


@pytest.mark.parametrize(
    ("rules", "where", "what"),
    [
        (
            [{"transform": {"tags": ["lowercse"]}}],
            "sites.demo.fields.rules[0].transform.tags[0]",
            "unknown transform 'lowercse'",
        ),
        (
            [{"transform": {"tags": [{"regex_extract": "a("}]}}],
            "sites.demo.fields.rules[0].transform.tags[0]",
            "bad regular expression 'a('",
        ),
        (
            [{"transform": {"t": [{"regex_replace": {"pattern": "[", "with": ""}}]}}],
            "rules[0].transform.t[0]",
            "bad regular expression",
        ),
        ([{"transform": {"t": ["split"]}}], "rules[0].transform.t[0]", "needs an argument"),
        ([{"transform": {"t": [{"join": 3}]}}], "rules[0].transform.t[0]", "takes a string"),
        ([{"template": {"path": "{category/{slug}"}}], "sites.demo.fields.rules[0].template", "malformed"),
        ([{"template": {"path": "{}/{slug}"}}], "sites.demo.fields.rules[0].template", "must be a field name"),
        ([{"template": {"path": "{a.b}"}}], "sites.demo.fields.rules[0].template", "must be a field name"),
        ([{"renam": {"a": "b"}}], "sites.demo.fields.rules[0]", "unknown rule operation 'renam'"),
        ([{"rename": {"a": "b"}, "drop": ["c"]}], "sites.demo.fields.rules[0]", "one operation per rule"),
        ([{"rename": {"a": "Bad Name"}}], "sites.demo.fields.rules[0].rename", "'Bad Name' is not a valid field name"),
        ([{"copy": {"a": "documentId"}}], "sites.demo.fields.rules[0].copy", "reserved Push API key"),
        ([{"coerce": {"a": "number"}}], "sites.demo.fields.rules[0].coerce", "a type among"),
        ([{"constant": {"a": {"x": 1}}}], "sites.demo.fields.rules[0].constant", "a string, number"),
        (["drop"], "sites.demo.fields.rules[0]", "a mapping with one operation"),
    ],
)
def test_rule_errors_name_site_and_rule(tmp_path: Path, rules: Any, where: str, what: str) -> None:
    message = _error(tmp_path, {"fields": {"rules": rules}})
    assert "settings.yaml" in message
    assert where in message
    assert what in message


def test_field_defaults_errors_name_field_defaults(tmp_path: Path) -> None:
    message = _error(tmp_path, {}, {"field_defaults": {"rules": [{"transform": {"x": ["nope"]}}]}})
    assert "field_defaults.rules[0].transform.x[0]" in message and "unknown transform 'nope'" in message


def test_declaration_errors(tmp_path: Path) -> None:
    assert "sites.demo.fields.declare.year.type" in _error(tmp_path, {"fields": {"declare": {"year": {"type": "int"}}}})
    assert "a type among" in _error(tmp_path, {"fields": {"declare": {"year": "number"}}})
    assert "not a valid field name" in _error(tmp_path, {"fields": {"declare": {"Year!": "integer"}}})
    assert "sites.demo.fields.declar" in _error(tmp_path, {"fields": {"declar": {}}})


def test_language_candidates_are_checked_against_the_model(tmp_path: Path) -> None:
    bad = _error(tmp_path, {"extract": {"languages": ["en", "xx", "DE"]}})
    assert "sites.demo.extract.languages" in bad and "unknown language code(s) ['xx']" in bad
    ok = _load(tmp_path, {"extract": {"languages": [" FR", "de", "fr"]}})
    assert ok.sites["demo"].extract.languages == ["de", "fr"]  # normalised, duplicates gone


def test_selector_errors(tmp_path: Path) -> None:
    bad_css = _error(tmp_path, {"extract": {"selectors": {"sku": {"css": "p[["}}}})
    assert "sites.demo.extract.selectors.sku" in bad_css and "bad selector" in bad_css
    bad_xpath = _error(tmp_path, {"extract": {"selectors": {"sku": {"xpath": "//p[@"}}}})
    assert "bad selector" in bad_xpath
    both = _error(tmp_path, {"extract": {"selectors": {"sku": {"css": "p", "xpath": "//p"}}}})
    assert "exactly one of 'css' or 'xpath'" in both


@pytest.mark.parametrize(
    ("security", "where", "what"),
    [
        ({"mode": "specific"}, "sites.demo.security", "needs at least one identity under 'allowed'"),
        ({"mode": "everyone", "allowed": [{"identity": "a"}]}, "sites.demo.security", "mode 'specific' only"),
        ({"mode": "public"}, "sites.demo.security.mode", "'everyone', 'specific' or 'content_system'"),
        ({"rules": [{"when": {"url_prefix": "https://x/"}}]}, "sites.demo.security.rules[0]", "needs 'allow', 'deny'"),
        ({"rules": [{"when": {}, "deny": [{"identity": "a"}]}]}, "sites.demo.security.rules[0].when", "a condition"),
        ({"rules": [{"when": {"url_prefix": "x"}, "private": True}]}, "security.rules[0]", "'private: true' needs"),
        ({"mode": "specific", "allowed": [{"identity": ""}]}, "sites.demo.security.allowed[0].identity", "at least 1"),
    ],
)
def test_security_errors(tmp_path: Path, security: Any, where: str, what: str) -> None:
    message = _error(tmp_path, {"security": security})
    assert where in message and what in message


def test_full_example_loads(tmp_path: Path) -> None:
    settings = _load(
        tmp_path,
        {
            "fields": {
                "declare": {"taxonomy": {"type": "string", "facet": True}, "tags": "list[string]", "year": "integer"},
                "rules": [
                    {"rename": {"og:title": "og_title_copy"}},
                    {
                        "transform": {
                            "tags": [
                                "lowercase",
                                {"split": ","},
                                "strip",
                                {"regex_replace": {"pattern": "x", "with": "y"}},
                            ]
                        }
                    },
                ],
            },
            "extract": {"selectors": {"sku": {"css": "span.sku::text"}}},
            "security": {
                "rules": [
                    {"when": {"url_prefix": "https://x/policies/"}, "allow": [{"identity": "hr"}], "private": True}
                ]
            },
        },
    )
    site = settings.sites["demo"]
    assert site.fields.declare["tags"].multi_value and site.fields.declare["tags"].type == "string"
    assert site.fields.rules[0].rename == {"og_title": "og_title_copy"}  # source names are normalised
    assert site.security.rules[0].when.url_prefix == ["https://x/policies/"]
