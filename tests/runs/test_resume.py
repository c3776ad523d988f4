"""SIGKILL a run while it crawls or while it pushes, rerun, and check the index equals the CMS without items
the killed run had acknowledged being pushed again."""

from __future__ import annotations

import json
import signal
import sqlite3

import pytest

from tests.runs.conftest import Bench, wait_for

pytestmark = pytest.mark.integration


def _acked(bench: Bench) -> dict[str, int]:
    """document id → ordering id of every acknowledged item in the state store."""
    try:
        with bench.state() as db:
            return dict(db.execute("SELECT document_id, ordering_id FROM items").fetchall())
    except sqlite3.OperationalError:  # the first run has not created the store yet
        return {}


def _pending(bench: Bench) -> int:
    """Batches on the wire: opened in the journal, not acknowledged yet."""
    try:
        with bench.state() as db:
            return int(db.execute("SELECT count(*) FROM journal WHERE status='pending'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def _kill_when(bench: Bench, args: tuple[str, ...], ready: object, what: str) -> dict[str, int]:
    proc = bench.start("crawl", "cms", *args)
    try:
        wait_for(ready, timeout=60, what=what)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    return _acked(bench)


def _rerun_and_check(bench: Bench, acked_by_killed: dict[str, int], *args: str) -> None:
    rerun = bench.crawl(*args)
    assert rerun.returncode == 0, rerun.stderr
    rep = bench.report()
    again = set(bench.pushed_ids(rep["ordering_id"])) & set(acked_by_killed)
    changed = {bench.site.url("page-1")}  # changed in the CMS after the kill: must be pushed again
    assert again <= changed, f"acknowledged items pushed again: {sorted(again - changed)}"
    bench.assert_index_matches_cms()
    with bench.state() as db:
        statuses = [r[0] for r in db.execute("SELECT status FROM runs WHERE dry_run=0 ORDER BY id")]
    assert statuses[-2:] == ["killed", "finished"]


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_kill_while_crawling_then_rerun(bench: Bench, mode: str) -> None:
    args = ("--full",) if mode == "full" else ()
    if mode == "incremental":  # an index to be incremental against, then changes the killed run must carry
        assert bench.crawl("--full").returncode == 0
        for n in range(0, 24, 3):
            bench.site.change(f"page-{n}")
    before = _acked(bench)
    bench.site.delay = 0.2  # slow pages: the kill lands mid-crawl, after a batch or two were acknowledged
    acked = _kill_when(
        bench,
        args,
        lambda: bench.site.hits_pages() >= 12 and len(set(_acked(bench).items()) - set(before.items())) >= 4,
        "a batch to be acknowledged mid-crawl",
    )
    assert bench.site.hits_pages() < 24 + (24 if mode == "incremental" else 0), "the run had finished crawling"
    new = {d: o for d, o in acked.items() if before.get(d) != o}
    bench.site.delay = 0.0
    bench.site.change("page-1")
    bench.site.remove("page-20")  # a full run sweeps it; an incremental one rechecks known ids (404 → delete)
    _rerun_and_check(bench, new, *args)


@pytest.mark.faults("latency=400@batch")  # slow acknowledgements: the kill lands while batches are in flight
def test_kill_while_pushing_then_rerun(bench: Bench) -> None:
    # a busy machine can leave a gap between one batch's acknowledgement and the next upload: wait for both
    # acknowledged batches and one on the wire (each acknowledgement takes 400 ms, so the kill lands before it)
    acked = _kill_when(
        bench, ("--full",), lambda: len(_acked(bench)) >= 8 and _pending(bench) >= 1, "two batches acked, one in flight"
    )
    assert len(acked) < 24
    assert _pending(bench) >= 1  # the batch on the wire at the kill is still open in the journal
    history = bench.cli("runs", "--json")
    assert json.loads(history.stdout)["runs"][0]["status"] == "died"  # no process holds its lock any more
    bench.site.change("page-1")
    bench.site.remove(next(s for s in bench.site.pages if bench.site.url(s) in acked and s != "page-1"))
    _rerun_and_check(bench, acked, "--full")
