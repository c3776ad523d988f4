"""A scaled-out run when things break: a worker killed with SIGKILL, Redis lost mid-run, Redis unreachable."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.distributed.conftest import add_distributed, wait_fetching, workers_of
from tests.fixtures.redis_server import RedisServer, free_port
from tests.runs.conftest import Bench

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.slow]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_kill_9_of_a_worker_sweeps_nothing_and_the_rerun_completes(dbench: Bench, redis_server: RedisServer) -> None:
    assert dbench.crawl("--full", "--workers", "2").returncode == 0
    dbench.site.remove("page-3")  # the next full run would sweep it, if it were proven complete
    dbench.site.delay = 1.0
    coordinator = dbench.start("crawl", "cms", "--full", "--workers", "2", "--report", str(dbench.tmp / "report.json"))
    client = redis_server.client()
    run_id = wait_fetching(client, 2)
    victim = sorted(workers_of(client, run_id).values(), key=lambda w: w["pid"])[0]["pid"]
    os.kill(victim, signal.SIGKILL)
    out, _ = coordinator.communicate(timeout=180)
    assert coordinator.returncode == 1, out
    rep = dbench.report()
    assert rep["status"] == "failed"
    assert "worker_died" in rep["message"], rep["message"]
    failures = [f["reason"] for f in rep["extra"]["failures"] if f["id"].startswith("worker ")]
    assert len(failures) == 1 and "died or stopped heartbeating" in failures[0], rep["extra"]["failures"]
    assert rep["counts"]["deleted"] == 0 and rep["deleted_ids"] == []
    assert "died" in {w["reason"] for w in rep["extra"]["workers"].values()}
    assert dbench.site.url("page-3") in dbench.index()  # not swept
    with dbench.state() as db:  # the full reindex is still open: the next full run resumes it
        assert db.execute("SELECT count(*) FROM full_runs").fetchone()[0] == 1

    dbench.site.delay = 0.0
    rerun = dbench.crawl("--full", "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    rep = dbench.report()
    assert rep["status"] == "finished", rep["message"]
    assert dbench.site.url("page-3") in rep["deleted_ids"]
    dbench.assert_index_matches_cms()


def test_redis_lost_mid_run_fails_the_run_stops_the_workers_and_sweeps_nothing(
    dbench: Bench, redis_server: RedisServer
) -> None:
    assert dbench.crawl("--full", "--workers", "1").returncode == 0
    dbench.site.remove("page-5")
    dbench.site.delay = 1.0
    coordinator = dbench.start("crawl", "cms", "--full", "--workers", "2", "--report", str(dbench.tmp / "report.json"))
    client = redis_server.client()
    run_id = wait_fetching(client, 1)
    pids = [w["pid"] for w in workers_of(client, run_id).values()]
    redis_server.kill()
    out, _ = coordinator.communicate(timeout=180)
    assert coordinator.returncode == 1, out
    rep = dbench.report()
    assert rep["status"] == "failed" and "lost Redis" in rep["message"], rep["message"]
    assert rep["counts"]["deleted"] == 0
    assert dbench.site.url("page-5") in dbench.index()  # nothing swept
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids), "a worker outlived its run"


def test_redis_unreachable_at_start_is_a_clear_error_and_nothing_is_pushed(bench: Bench) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    add_distributed(bench.settings, url, "  password: ${REDIS_TEST_PASSWORD}\n")
    env = bench.env()
    bench.env = lambda: {**env, "REDIS_TEST_PASSWORD": "never-shown-pw"}  # type: ignore[method-assign]
    run = bench.crawl("--full", "--workers", "2", timeout=60)
    assert run.returncode == 2
    assert f"cannot reach Redis at {url}" in run.stderr and "nothing was pushed" in run.stderr
    assert "never-shown-pw" not in run.stderr + run.stdout
    assert bench.pushed_ids() == []
    with bench.api.store.read() as db:  # not even the source status was touched
        assert db.execute("SELECT count(*) FROM activity WHERE operation='SET_STATUS'").fetchone()[0] == 0
