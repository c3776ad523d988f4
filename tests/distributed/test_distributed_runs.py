"""`crawl SITE --workers N` end to end: a real Redis, real worker processes, the local Push API as the target."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import cli_in_process
from tests.distributed.conftest import add_distributed
from tests.fixtures.redis_server import RedisServer
from tests.runs.conftest import Bench

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.slow]


def test_two_workers_push_the_site_once_then_sweep_5_percent_and_refuse_30(dbench: Bench) -> None:
    dbench.site.delay = 0.05  # every worker gets some of the pages
    run = dbench.crawl("--full", "--workers", "2")
    assert run.returncode == 0, run.stderr
    rep = dbench.report()
    assert rep["status"] == "finished", rep["message"]
    dbench.assert_index_matches_cms()
    pushed = Counter(dbench.pushed_ids(rep["ordering_id"]))
    assert set(pushed) == dbench.site.current_ids() and set(pushed.values()) == {1}  # each document once
    per_worker = rep["extra"]["workers"]
    assert len(per_worker) == 2
    assert sum(w["pushed"] for w in per_worker.values()) == rep["counts"]["pushed"] == 24
    assert all(w["fetched"] for w in per_worker.values()), per_worker  # the work was shared
    assert dbench.site.hits_pages() == 24  # every page fetched once across the workers (shared dupefilter)
    # the coordinator's ping, then the start request seeded once for the run (not once per worker)
    assert len(dbench.site.hits("/sitemap.xml")) == 2
    with dbench.state() as db:  # the coordinator committed every worker's acknowledgements
        assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 24
    history = cli_in_process("runs", "--settings", str(dbench.settings))
    lines = [line for line in history.stdout.splitlines() if " worker " in line]
    assert len(lines) == 2 and all(": finished · " in line and " fetched " in line for line in lines), history.stdout

    # the guard and the sweep apply to the run as a whole (max_deletions 10 %)
    dbench.settings.write_text(dbench.settings.read_text().replace("max_deletions: 0.5", "max_deletions: 0.1"))
    dbench.site.remove("page-7")  # 1 of 24 pages (about 5 %)
    run = dbench.crawl("--full", "--workers", "2")
    assert run.returncode == 0, run.stderr
    rep = dbench.report()
    assert rep["deleted_ids"] == [dbench.site.url("page-7")] and rep["counts"]["deleted"] == 1
    dbench.assert_index_matches_cms()

    for n in range(8, 16):  # 8 of 23 (about 30 %)
        dbench.site.remove(f"page-{n}")
    run = dbench.crawl("--full", "--workers", "2")
    assert run.returncode == 3, run.stderr  # refused by the mass-deletion guard
    assert dbench.report()["counts"]["deleted"] == 0
    assert dbench.site.url("page-9") in dbench.index()  # nothing swept


def test_three_workers_with_a_redis_password_from_the_environment(bench: Bench) -> None:
    password = "s3cret-redis-pass"
    with RedisServer(password=password) as server:
        add_distributed(bench.settings, server.url, "  password: ${REDIS_TEST_PASSWORD}\n")
        bench.site.delay = 0.05
        env = bench.env()
        bench.env = lambda: {**env, "REDIS_TEST_PASSWORD": password}  # type: ignore[method-assign]
        run = bench.crawl("--full", "--workers", "3", "-v")
        assert run.returncode == 0, run.stderr
        rep = bench.report()
        assert rep["status"] == "finished", rep["message"]
        bench.assert_index_matches_cms()
        assert Counter(bench.pushed_ids(rep["ordering_id"])).most_common(1)[0][1] == 1
        assert len(rep["extra"]["workers"]) == 3
        assert sum(w["pushed"] for w in rep["extra"]["workers"].values()) == rep["counts"]["pushed"] == 24
        # the password is in no log line, report or output (the workers' logs included)
        logs = [p.read_text(errors="replace") for p in (bench.tmp / "state" / "logs").iterdir()]
        assert logs and all(password not in text for text in [*logs, run.stdout, run.stderr, str(rep)])

        # incremental: an unchanged item is skipped by whichever worker meets it (the mirrored fingerprints)
        bench.site.change("page-5")
        run = bench.crawl("--workers", "3")
        assert run.returncode == 0, run.stderr
        rep = bench.report()
        assert rep["mode"] == "incremental" and rep["status"] == "finished", rep["message"]
        assert rep["counts"]["pushed"] == 1 and rep["counts"]["unchanged"] == 23
        assert bench.pushed_ids(rep["ordering_id"]) == [bench.site.url("page-5")]
        bench.assert_index_matches_cms()
