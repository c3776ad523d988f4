"""Secrets that reach a log line, a report or dry-run output come out masked (data-safety rule 4).

The other tests show the API key is never printed; these make a secret reach each output on purpose and
check the redaction itself, so removing it fails here.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from crawler import secrets
from crawler.config import load_settings
from crawler.report import RunReport
from tests.conftest import DEMO

SECRET = "pc-test-9f8e7d6c5b4a"


@pytest.fixture
def root_stream() -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    secrets.install_log_filter()
    yield stream
    root.removeHandler(handler)


def test_secret_from_environment_is_registered_and_masked_in_logs(
    write_settings, monkeypatch, root_stream: io.StringIO
) -> None:
    monkeypatch.setenv("PC_TEST_CMS_PASSWORD", SECRET)
    path = write_settings(
        f"""
sites:
  demo:
    connector: sitemap
    options: {{sitemap_urls: ["{DEMO / "sitemap.xml"}"]}}
    scrapy: {{HTTP_PASSWORD: "${{PC_TEST_CMS_PASSWORD}}"}}
"""
    )
    load_settings(str(path))  # interpolating a secret-looking key registers its value
    log = logging.getLogger("pushcrawl.test")
    log.warning("login failed for admin:%s at %s", SECRET, "https://cms.example.org")
    try:
        raise RuntimeError(f"server echoed the password {SECRET}")
    except RuntimeError:
        log.exception("request failed")
    output = root_stream.getvalue()
    assert "login failed for admin:***" in output
    assert "server echoed the password ***" in output
    assert SECRET not in output


def test_report_and_dry_run_bodies_are_redacted(tmp_path: Path) -> None:
    secrets.register(SECRET)
    report = RunReport("demo", "full", "failed", 1, {}, 0, 0.0, message=f"401 with key {SECRET}")
    report.write(tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text()
    assert SECRET not in text and "401 with key ***" in text
    body = secrets.redact_obj({"title": "t", "notes": [f"token={SECRET}"]})
    assert json.dumps(body) == '{"title": "t", "notes": ["token=***"]}'


def test_short_values_are_not_masked() -> None:
    secrets.register("ab")  # masking two-letter values would garble every log line
    assert secrets.redact("a tab") == "a tab"
