"""Offline checks of the run lock, the state store's run/lineage bookkeeping and the runs --check rule."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.commands.runs import check
from crawler.runlock import LOCKED_EXIT, RunLocked, ScopeLock
from crawler.state import StateStore


def test_lock_excludes_a_second_holder_and_names_the_first(tmp_path: Path) -> None:
    first = ScopeLock(tmp_path, "local/demo")
    first.acquire()
    try:
        with pytest.raises(RunLocked) as err:
            ScopeLock(tmp_path, "local/demo").acquire()
        assert err.value.exit_code == LOCKED_EXIT
        assert "in progress" in str(err.value) and "pid" in str(err.value)
        assert ScopeLock(tmp_path, "local/demo").is_held()
        ScopeLock(tmp_path, "local/other").acquire()  # other scopes are independent
    finally:
        first.release()
    assert not ScopeLock(tmp_path, "local/demo").is_held()


def test_lock_of_a_killed_process_is_released_by_the_kernel(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from crawler.runlock import ScopeLock; "
        f"ScopeLock(Path({str(tmp_path)!r}), 'local/demo').acquire(); print('locked', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    with pytest.raises(RunLocked):
        ScopeLock(tmp_path, "local/demo").acquire()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    with ScopeLock(tmp_path, "local/demo"):  # not stuck
        pass


def test_dead_runs_are_marked_killed_and_dry_runs_are_flagged(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "s.sqlite")
    dead = state.start_run("t/a", "a", "full", 1, 111)
    dry = state.start_run("t/a", "a", "full", 2, 222, dry_run=True)
    other = state.start_run("t/b", "b", "full", 3, 333)
    mine = state.start_run("t/a", "a", "incremental", 4, 444)
    assert state.close_dead_runs("t/a", mine) == 1
    runs = {r["id"]: r for r in state.runs(limit=10)}
    assert runs[dead]["status"] == "killed" and runs[dead]["finished_at"] is not None
    assert runs[dry]["status"] == "running" and runs[dry]["dry_run"] is True  # a dry run holds no lock
    assert runs[other]["status"] == "running" and runs[mine]["status"] == "running"
    assert [r["id"] for r in state.runs(site="a", dry_runs=False)] == [mine, dead]


def test_full_lineage_and_acked_since(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "s.sqlite")
    assert state.pending_full("t/a") is None
    state.begin_full("t/a", 1000, 1)
    state.begin_full("t/a", 2000, 2)  # a second start does not move the lineage's threshold
    assert state.pending_full("t/a") == {
        "ordering_id": 1000,
        "run_id": 1,
        "started_at": pytest.approx(time.time(), abs=5),
    }
    state.commit_items("t/a", 1, 500, [("old", "f0")])
    state.commit_items("t/a", 1, 1000, [("kept", "f1")])
    state.commit_items("t/a", 2, 2000, [("new", "f2")])
    assert state.acked_since("t/a", 1000) == {"kept": "f1", "new": "f2"}
    assert state.items_not_acked_since("t/a", 1000) == ["old"]
    state.end_full("t/a")
    assert state.pending_full("t/a") is None


def test_schema_v1_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema', '1');"
        "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, scope TEXT NOT NULL, site TEXT NOT NULL,"
        " mode TEXT NOT NULL, status TEXT NOT NULL, ordering_id INTEGER NOT NULL, started_at REAL NOT NULL,"
        " finished_at REAL, counts TEXT NOT NULL DEFAULT '{}', message TEXT NOT NULL DEFAULT '', pid INTEGER);"
        "INSERT INTO runs (scope, site, mode, status, ordering_id, started_at)"
        " VALUES ('t/a', 'a', 'full', 'finished', 1, 1);"
    )
    db.commit()
    db.close()
    state = StateStore(path)
    assert state.runs()[0]["dry_run"] is False
    assert state.pending_full("t/a") is None


def _run(i: int, status: str = "finished", mode: str = "full", docs: int = 100, dry: bool = False) -> dict:
    return {"id": i, "site": "a", "mode": mode, "status": status, "dry_run": dry, "message": "boom",
            "counts": {"documents": docs}}  # fmt: skip


def test_check_rule() -> None:
    assert check([], "a", 0.2) == "a: no finished run yet"
    assert check([_run(2, docs=85), _run(1)], "a", 0.2) is None
    assert "fell from 100" in (check([_run(2, docs=70), _run(1)], "a", 0.2) or "")
    assert check([_run(2, docs=70), _run(1)], "a", 0.5) is None
    assert "failed: boom" in (check([_run(2, status="failed"), _run(1)], "a", 0.2) or "")
    # dry runs and other modes are not compared with
    assert check([_run(3, docs=10, dry=True), _run(2, docs=90), _run(1)], "a", 0.2) is None
    assert check([_run(2, docs=5, mode="incremental"), _run(1)], "a", 0.2) is None
