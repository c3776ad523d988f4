"""The main job end to end: `pushcrawl crawl demo` into the embedded local Push API, then search.

Runs the real CLI in a subprocess against a copy of the bundled settings (data kept under tmp_path).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli_in_process, demo_settings, read_report, run_cli

pytestmark = pytest.mark.integration


_settings = demo_settings  # the bundled demo site, state and index under tmp_path


def _search(settings: Path, word: str) -> dict:
    result = cli_in_process("search", word, "--json", "--settings", str(settings))  # no crawl: no process
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_crawl_pushes_searchable_pages_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = run_cli("crawl", "demo", "--settings", str(settings), "--report", str(tmp_path / "r1.json"))
    assert first.returncode == 0, first.stderr[-3000:]
    report = read_report(tmp_path / "r1.json")
    assert report["status"] == "finished"
    assert report["counts"]["documents"] >= 30
    assert report["counts"]["errors"] == 0
    assert report["counts"]["pushed"] == report["counts"]["documents"]
    assert "pushcrawl: demo" in first.stderr  # the closing summary

    hits = _search(settings, "zephyrine")
    assert hits["totalCount"] == 1
    assert hits["results"][0]["uri"].endswith("articles/trail-shoe-care.html")
    assert _search(settings, "vellichor")["totalCount"] == 1  # text of the PDF, indexed through the binary path
    everything = _search(settings, "")["totalCount"]  # the empty query matches every item
    assert everything == report["counts"]["documents"]

    second = run_cli("crawl", "demo", "--settings", str(settings), "--report", str(tmp_path / "r2.json"))
    assert second.returncode == 0, second.stderr[-3000:]
    again = read_report(tmp_path / "r2.json")
    assert again["counts"]["pushed"] == 0
    assert again["counts"]["unchanged"] == report["counts"]["documents"]
    assert _search(settings, "")["totalCount"] == everything  # no duplicates

    full = run_cli("crawl", "demo", "--full", "--settings", str(settings), "--report", str(tmp_path / "r3.json"))
    assert full.returncode == 0, full.stderr[-3000:]
    assert read_report(tmp_path / "r3.json")["counts"]["pushed"] == report["counts"]["documents"]
    assert _search(settings, "")["totalCount"] == everything
