"""The run page over a real crawler state file: the funnel fetched → mapped → pushed → indexed / rejected /
pending, and every named failure (failed, dropped, rejected items, unreadable listings) with its reason,
paged and filtered by kind; a state file without those tables still gets a page."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from crawler.indexing_log import IndexingLog
from crawler.ledger import SqliteLedger
from crawler.localapi import LocalPushAPI
from crawler.state import StateStore


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "state.sqlite"
    state = StateStore(path)
    run = state.start_run("local/kb", "kb", "full", 1, os.getpid())
    ledger = SqliteLedger(path, run)
    for i in range(130):
        ledger.record_error(f"https://kb.test/broken/{i:03d}", "HTTP 500 from the site")
    ledger.listing_failed("https://kb.test/sitemap-2.xml", "timed out after 3 retries")
    ledger.flush()
    counts = {"fetched": 400, "documents": 260, "pushed": 250, "errors": 131, "dropped": 9}
    state.finish_run(run, "failed", counts, "131 items failed")
    other = state.start_run("local/kb", "kb", "incremental", 2, os.getpid())
    state.finish_run(other, "finished", {"fetched": 3, "documents": 3, "pushed": 3}, "")
    state.close()
    server = LocalPushAPI(tmp_path / "data", state_db=path)
    server.start()
    yield server.base_url, path
    server.stop()


def get(base: str, path: str, **params: object) -> str:
    r = requests.get(base + path, params=params, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return _text(r.text)


def test_run_page_lists_every_failure_paged_and_by_kind(served: tuple[str, Path]) -> None:
    base, _ = served
    page = get(base, "/browse/runs/1")
    assert "400 fetched → 260 mapped → 250 pushed →" in page and "not read back from the index" in page
    assert "all 131" in page and "error 130" in page and "listing 1" in page
    assert "1-100 of 131 failures" in page and "https://kb.test/broken/000" in page and "HTTP 500 from the site" in page
    assert "https://kb.test/broken/100" not in page
    second = get(base, "/browse/runs/1", page=2)
    assert "101-131 of 131 failures" in second and "https://kb.test/broken/129" in second
    listing = get(base, "/browse/runs/1", kind="listing")
    assert "1-1 of 1 failure" in listing and "sitemap-2.xml" in listing and "broken/000" not in listing
    clean = get(base, "/browse/runs/2")
    assert "None: no item failed, was dropped or was rejected in this run." in clean


def test_run_page_shows_what_the_index_did_with_the_items(served: tuple[str, Path]) -> None:
    base, path = served
    IndexingLog(path).close()  # its tables, created as a real run creates them
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO indexing_runs VALUES (1, 'local/kb', 250, 246, 3, 1, 1700000000, 2, 0)")
        db.execute(
            "INSERT INTO indexing_failures VALUES (1, 'https://kb.test/big', 'REJECTED', 'CONVERTING',"
            " 'the document is too large', 1700000001, 0)"
        )
    page = get(base, "/browse/runs/1")
    assert "250 pushed → 246 indexed · 3 rejected · 1 pending" in page and "read back 2 times" in page
    listing = get(base, "/browse/runs")
    assert "indexed rejected pending" in listing and "246 3 1" in listing
    assert "rejected 1" in page and "all 132" in page
    rejected = get(base, "/browse/runs/1", kind="rejected")
    assert "https://kb.test/big" in rejected and "REJECTED at CONVERTING" in rejected
    assert "the document is too large" in rejected and "broken/000" not in rejected


def test_a_state_file_without_failure_tables_still_gets_a_run_page(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = StateStore(path)
    run = state.start_run("local/kb", "kb", "full", 1, os.getpid())
    state.finish_run(run, "finished", {"fetched": 5, "pushed": 5}, "")
    state.close()
    with sqlite3.connect(path) as db:  # as a state file written before the run ledger existed
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'ledger_%'").fetchall():
            db.execute(f"DROP TABLE {name}")
    server = LocalPushAPI(tmp_path / "data", state_db=path)
    server.start()
    try:
        page = get(server.base_url, "/browse/runs/1")
        assert "5 fetched → 5 pushed" in page and "keeps no per-item failures" in page
    finally:
        server.stop()
