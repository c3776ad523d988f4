"""Target secrets: ``-s`` cannot smuggle a literal API key, and commands that need no target read no secret.

Issue 17, findings 10 and 12.
"""

from __future__ import annotations

import pytest

from crawler import secrets
from crawler.config import load_settings
from crawler.errors import SettingsError
from tests.conftest import DEMO, run_cli

PROD = f"""
target: local
targets:
  local: {{kind: local, data_dir: data}}
  prod: {{kind: coveo, organization_id: org, api_key: "${{PC_HARDEN_UNSET_KEY}}"}}
sites:
  demo:
    connector: sitemap
    options: {{sitemap_urls: ["{DEMO / "sitemap.xml"}"]}}
"""

LITERAL = "pc-literal-key-0123456789"


def test_literal_api_key_override_is_refused_and_masked(write_settings, monkeypatch) -> None:
    monkeypatch.setenv("PC_HARDEN_UNSET_KEY", "from-env-abcdef")
    path = write_settings(PROD)
    with pytest.raises(SettingsError) as info:
        load_settings(str(path), [f"targets.prod.api_key={LITERAL}"])
    message = str(info.value)
    assert "targets.prod.api_key" in message and "environment variable" in message
    assert LITERAL not in message
    assert secrets.redact(f"key {LITERAL}") == "key ***"  # masked at once, before any target opens


def test_api_key_override_by_reference_is_resolved_and_registered(write_settings, monkeypatch) -> None:
    monkeypatch.setenv("PC_HARDEN_UNSET_KEY", "from-env-abcdef")
    monkeypatch.setenv("PC_HARDEN_OTHER_KEY", "other-env-key-42")
    path = write_settings(PROD)
    settings = load_settings(str(path), ["targets.prod.api_key=${PC_HARDEN_OTHER_KEY}"])
    assert settings.targets["prod"].api_key.get_secret_value() == "other-env-key-42"  # type: ignore[union-attr]
    assert secrets.redact("other-env-key-42") == "***"


def test_literal_api_key_override_refused_by_the_cli(write_settings) -> None:
    path = write_settings(PROD)
    result = run_cli(
        "crawl",
        "demo",
        "--dry-run",
        "--target",
        "prod",
        "--settings",
        str(path),
        "-s",
        f"targets.prod.api_key={LITERAL}",
        env={"PC_HARDEN_UNSET_KEY": "x" * 12},
    )
    assert result.returncode != 0
    assert "targets.prod.api_key" in result.stderr
    assert LITERAL not in result.stderr + result.stdout


def test_runs_needs_no_target_secret(write_settings, monkeypatch) -> None:
    monkeypatch.delenv("PC_HARDEN_UNSET_KEY", raising=False)
    path = write_settings(PROD)
    result = run_cli("runs", "--settings", str(path))
    assert result.returncode == 0, result.stderr
    assert "not set" not in result.stderr
    assert "no runs recorded yet" in result.stdout
