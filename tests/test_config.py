"""Settings errors name the file, the key path and what was expected — and exit non-zero without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import connector_options, load_settings
from crawler.errors import SettingsError
from tests.conftest import DEMO, run_cli

GOOD = f"""
target: local
targets:
  local: {{kind: local, data_dir: data}}
sites:
  demo:
    connector: sitemap
    options: {{sitemap_urls: ["{DEMO / "sitemap.xml"}"]}}
    schedule: "*/30 * * * *"
"""


def test_good_settings_load_and_resolve_relative_paths(write_settings) -> None:
    path = write_settings(GOOD.replace(str(DEMO / "sitemap.xml"), "pages/sitemap.xml"))
    settings = load_settings(str(path))
    cls, options = connector_options(settings, "demo")
    assert cls.name == "sitemap"
    # a local path is resolved against the settings file's folder, not the working directory
    assert options.sitemap_urls == [(path.parent / "pages" / "sitemap.xml").as_uri()]
    assert settings.resolve_path(settings.targets["local"].data_dir) == path.parent / "data"


@pytest.mark.parametrize(
    ("old", "new", "key", "expected"),
    [
        ("connector: sitemap", "connector: nosuchcms", "sites.demo.connector", "unknown connector 'nosuchcms'"),
        ("options: {sitemap_urls", "options: {sitemap_url", "sites.demo.options.sitemap_urls", "required"),
        ("options: {sitemap_urls", "options: {sitemap_urls: 5, x", "sites.demo.options.sitemap_urls", "valid list"),
        ('schedule: "*/30 * * * *"', 'schedule: "every half hour"', "sites.demo.schedule", "cron expression"),
        ("target: local", "target: prod", "target", "a target defined under 'targets:'"),
    ],
)
def test_each_error_names_file_key_and_expectation(write_settings, old, new, key, expected) -> None:
    path = write_settings(GOOD.replace(old, new, 1))
    assert GOOD.replace(old, new, 1) != GOOD
    with pytest.raises(SettingsError) as info:
        settings = load_settings(str(path))
        connector_options(settings, "demo")
    message = str(info.value)
    assert str(path) in message
    assert key in message
    assert expected in message


def test_unset_environment_variable_is_named(write_settings, monkeypatch) -> None:
    monkeypatch.delenv("PUSHCRAWL_TEST_KEY", raising=False)
    text = GOOD.replace(
        "targets:\n",
        'targets:\n  prod: {kind: coveo, organization_id: org, api_key: "${PUSHCRAWL_TEST_KEY}"}\n',
    )
    path = write_settings(text)
    with pytest.raises(SettingsError) as info:
        load_settings(str(path))
    assert "targets.prod.api_key" in str(info.value)
    assert "PUSHCRAWL_TEST_KEY is not set" in str(info.value)
    monkeypatch.setenv("PUSHCRAWL_TEST_KEY", "s3cret-value")
    settings = load_settings(str(path))
    assert settings.targets["prod"].api_key.get_secret_value() == "s3cret-value"  # type: ignore[union-attr]


def test_unknown_key_and_wrong_type_in_push_section(write_settings) -> None:
    path = write_settings(GOOD + "push: {batch_max_items: lots, batch_size: 3}\n")
    with pytest.raises(SettingsError) as info:
        load_settings(str(path))
    assert "push.batch_max_items" in str(info.value)
    assert "push.batch_size: unknown key" in str(info.value)


def test_missing_file_and_bad_yaml(tmp_path: Path, write_settings) -> None:
    with pytest.raises(SettingsError, match="file not found"):
        load_settings(str(tmp_path / "nope.yaml"))
    path = write_settings("sites: [unclosed\n")
    with pytest.raises(SettingsError, match="line 2"):
        load_settings(str(path))


def test_overrides_from_command_line_win(write_settings) -> None:
    path = write_settings(GOOD)
    settings = load_settings(str(path), ["push.batch_max_items=7", "sites.demo.max_deletions=0.5"])
    assert settings.push.batch_max_items == 7
    assert settings.sites["demo"].max_deletions == 0.5


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("connector: sitemap", "connector: nosuchcms", "sites.demo.connector"),
        ('schedule: "*/30 * * * *"', 'schedule: "61 * * * *"', "sites.demo.schedule"),
        ("target: local", "target: prod", "target"),
    ],
)
def test_cli_prints_one_paragraph_without_traceback(write_settings, old, new, needle) -> None:
    path = write_settings(GOOD.replace(old, new, 1))
    result = run_cli("crawl", "demo", "--settings", str(path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("pushcrawl: error: invalid settings in ")
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
