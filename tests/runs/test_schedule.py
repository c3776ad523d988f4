"""``pushcrawl schedule``: runs never overlap (also after a crashed run, and against a manual crawl), each run is
logged, SIGTERM stops cleanly; ``pushcrawl runs`` shows the history and ``--check`` flags failures and drops."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3

import pytest

from tests.runs.conftest import Bench, wait_for, write_bench_settings

pytestmark = pytest.mark.integration


def _runs(bench: Bench) -> list[dict[str, object]]:
    try:
        with bench.state() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM runs WHERE dry_run=0 ORDER BY id")]
    except sqlite3.OperationalError:
        return []


def _running_pid(bench: Bench) -> int | None:
    running = [r for r in _runs(bench) if r["status"] == "running"]
    return int(running[-1]["pid"]) if running else None  # type: ignore[call-overload]


@pytest.mark.heavy
def test_scheduled_runs_never_overlap_even_after_a_crash(bench: Bench) -> None:
    write_bench_settings(bench.settings, bench.api.base_url, bench.site.sitemap_url)
    text = bench.settings.read_text().replace(
        "    max_deletions: 0.5", '    max_deletions: 0.5\n    schedule: "* * * * * */1"'
    )
    bench.settings.write_text(text)  # every second: far more often than a run lasts
    # a run lasts ~15 s: the manual run (a process start, slow on a busy machine) and the kill land while it
    # holds the lock
    bench.site.delay = 1.2
    scheduler = bench.start("schedule", "--grace", "20")
    try:
        wait_for(lambda: _running_pid(bench) is not None, 60, "a scheduled run to start")
        crashed = _running_pid(bench)
        assert crashed is not None
        wait_for(lambda: bench.site.hits_pages() >= 4, 30, "the run to fetch pages")

        manual = bench.crawl()  # a manual run while a scheduled one holds the lock
        assert manual.returncode == 75, manual.stderr
        assert "in progress" in manual.stderr and f"pid {crashed}" in manual.stderr

        os.kill(crashed, signal.SIGKILL)  # a crashed run: its lock must not block the next one
        bench.site.delay = 0.0  # the run after the crash need not be slow: nothing lands while it holds the lock
        wait_for(lambda: any(r["status"] == "finished" for r in _runs(bench)), 90, "a run to finish after the crash")
        bench.site.delay = 1.2  # the next one is: SIGTERM must find it running
        wait_for(lambda: _running_pid(bench) not in (None, crashed), 60, "the next scheduled run")
    finally:
        scheduler.send_signal(signal.SIGTERM)
        out, _ = scheduler.communicate(timeout=60)
    assert scheduler.returncode == 0, out
    assert "skipped — the previous run" in out
    assert "killed by SIGKILL" in out
    assert "stopping: sent SIGTERM to 1 running crawl(s)" in out
    assert "stopped" in out.splitlines()[-1]

    runs = _runs(bench)
    assert runs[0]["status"] == "killed"  # marked by the next run, which held the lock
    assert runs[-1]["status"] == "aborted"  # the run SIGTERM stopped gracefully
    assert all(r["finished_at"] is not None for r in runs)
    for earlier, later in itertools.pairwise(runs):  # strictly one after another
        assert later["started_at"] >= earlier["finished_at"] - 0.01 or earlier["status"] == "killed"
        assert earlier["pid"] != later["pid"]
    logs = list((bench.tmp / "state" / "logs" / "cms").glob("*.log"))
    assert len(logs) == len(runs)  # each run has its own log (and report) file
    assert any(json.loads(p.read_text())["status"] == "finished" for p in logs[0].parent.glob("*.json"))

    history = bench.cli("runs", "--json")
    assert history.returncode == 0, history.stderr
    statuses = [r["status"] for r in json.loads(history.stdout)["runs"]]
    assert statuses[-1] == "killed" and statuses[0] == "aborted"


def test_runs_check_flags_a_failed_run_and_a_drop(bench: Bench) -> None:
    check = ("runs", "--check")
    assert bench.crawl("--full").returncode == 0
    assert bench.crawl().returncode == 0
    ok = bench.cli(*check)
    assert ok.returncode == 0, ok.stderr
    assert "incremental" in ok.stdout and "finished" in ok.stdout

    for n in range(8):  # 24 → 16 documents: a 33 % drop
        bench.site.remove(f"page-{n}")
    assert bench.crawl().returncode == 0
    dropped = bench.cli(*check)
    assert dropped.returncode == 1
    assert "documents fell from 24" in dropped.stderr and "to 16" in dropped.stderr
    loose = bench.cli(*check, "--max-drop", "0.5")
    assert loose.returncode == 0, loose.stderr

    bench.site.fail_listing(0)
    assert bench.crawl("--full").returncode == 1
    failed = bench.cli(*check)
    assert failed.returncode == 1 and "listing page(s) failed" in failed.stderr
