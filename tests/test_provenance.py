"""Origins of effective settings (default, settings.yaml, environment, command line) and their redaction."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crawler.config import connector_options, load_settings
from crawler.provenance import effective_settings, format_settings

SETTINGS = """
target: prod
targets:
  prod:
    kind: coveo
    organization_id: ${PROV_ORG}
    api_key: ${PROV_API_KEY}
    base_url: ${PROV_URL:-http://127.0.0.1:9}
sites:
  demo:
    connector: sitemap
    options:
      sitemap_urls: [https://example.test/sitemap.xml]
    scrapy:
      HTTP_PASSWORD: literal-password-in-file
push:
  batch_max_items: 200
"""


@pytest.fixture
def rows(write_settings: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, str]]:
    monkeypatch.setenv("PROV_ORG", "acme")
    monkeypatch.setenv("PROV_API_KEY", "prov-secret-key-42")
    monkeypatch.delenv("PROV_URL", raising=False)
    path = write_settings(SETTINGS)
    overrides = ["push.max_in_flight=2", "push.batch_max_items=300"]
    settings = load_settings(str(path), overrides)
    _, options = connector_options(settings, "demo")
    result = effective_settings(settings, overrides, {"demo": options})
    return {r.key: (r.value, r.origin) for r in result}


def test_each_origin(rows: dict[str, tuple[str, str]]) -> None:
    assert rows["push.batch_max_bytes"] == ("5242880", "default")
    assert rows["target"] == ("prod", "settings.yaml")
    assert rows["targets.prod.organization_id"] == ("acme", "environment ($PROV_ORG)")
    assert rows["targets.prod.base_url"] == (
        "http://127.0.0.1:9",
        "settings.yaml: default of $PROV_URL, which is not set",
    )
    assert rows["push.max_in_flight"] == ("2", "command line (-s push.max_in_flight)")
    assert rows["push.batch_max_items"] == ("300", "command line (-s push.batch_max_items)")  # -s beats the file


def test_connector_option_defaults_are_listed(rows: dict[str, tuple[str, str]]) -> None:
    assert rows["sites.demo.options.sitemap_urls"][1] == "settings.yaml"
    assert rows["sites.demo.options.deny"] == ("[]", "default")


def test_secrets_are_masked(rows: dict[str, tuple[str, str]]) -> None:
    assert rows["targets.prod.api_key"] == ("***", "environment ($PROV_API_KEY)")
    assert rows["sites.demo.scrapy.HTTP_PASSWORD"][0] == "***"  # secret-looking key, even written literally
    lines = "\n".join(format_settings(list_rows(rows)))
    assert "prov-secret-key-42" not in lines and "literal-password-in-file" not in lines


def list_rows(rows: dict[str, tuple[str, str]]) -> list:  # type: ignore[type-arg]
    from crawler.provenance import Setting

    return [Setting(k, v, o) for k, (v, o) in rows.items()]
