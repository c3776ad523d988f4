"""``pushcrawl delete`` and ``pushcrawl purge``: operator actions outside a crawl, through the real CLI into
the embedded local Push API, recorded in the run history, and followed by runs that put back what the CMS
still has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DEMO, demo_settings, run_cli

pytestmark = pytest.mark.integration

PAGE = "articles/trail-shoe-care.html"  # the one demo page that says "zephyrine"


_settings = demo_settings


def _count(settings: Path, query: str = "") -> int:
    out = run_cli("search", query, "--json", "--settings", str(settings))
    assert out.returncode == 0, out.stderr
    return int(json.loads(out.stdout)["totalCount"])


def _crawl(settings: Path) -> dict:
    run = run_cli("crawl", "demo", "--json", "-q", "--settings", str(settings))
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def _runs(settings: Path) -> list[dict]:
    out = run_cli("runs", "demo", "--json", "--settings", str(settings))
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout)["runs"])


def test_delete_removes_one_item_now_and_the_next_run_puts_it_back(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = _crawl(settings)
    assert _count(settings, "zephyrine") == 1
    doc_id = next(p for p in (DEMO / PAGE,) if p.exists()).as_uri()
    deleted = run_cli("delete", "demo", doc_id, "--settings", str(settings))
    assert deleted.returncode == 0, deleted.stderr
    assert _count(settings, "zephyrine") == 0
    assert _count(settings) == first["counts"]["documents"] - 1
    assert _runs(settings)[0]["mode"] == "delete" and _runs(settings)[0]["status"] == "finished"
    # the CMS still has the page: its fingerprint was forgotten, so the next run pushes exactly that one
    again = _crawl(settings)
    assert again["counts"]["pushed"] == 1
    assert _count(settings, "zephyrine") == 1


def test_purge_needs_confirmation_then_empties_the_source_and_the_next_run_refills_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = _crawl(settings)
    total = first["counts"]["documents"]
    refused = run_cli("purge", "demo", "--settings", str(settings))  # no terminal, no --yes
    assert refused.returncode == 3 and "--yes" in refused.stderr
    assert _count(settings) == total  # nothing deleted
    dry = run_cli("purge", "demo", "--dry-run", "--settings", str(settings))
    assert dry.returncode == 0 and f"({total} item(s)" in dry.stderr
    assert _count(settings) == total
    purged = run_cli("purge", "demo", "--yes", "--settings", str(settings))
    assert purged.returncode == 0, purged.stderr
    assert _count(settings) == 0
    assert _runs(settings)[0]["mode"] == "purge" and _runs(settings)[0]["counts"]["deleted"] == total
    # fingerprints and cursor were forgotten: an incremental run pushes everything again
    refill = _crawl(settings)
    assert refill["counts"]["pushed"] == total and refill["counts"]["unchanged"] == 0
    assert _count(settings) == total
