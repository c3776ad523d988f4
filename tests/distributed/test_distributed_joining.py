"""`pushcrawl worker SITE` from another working directory (another machine in all but name), and who is refused."""

from __future__ import annotations

import pytest

from tests.distributed.conftest import cli, other_machine, start_cli, wait_fetching, workers_of
from tests.fixtures.redis_server import RedisServer
from tests.runs.conftest import Bench

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.slow]


def test_a_worker_from_elsewhere_joins_and_the_refused_are_refused(dbench: Bench, redis_server: RedisServer) -> None:
    elsewhere = other_machine(dbench)
    nothing = cli(dbench, elsewhere, "worker", "cms")
    assert nothing.returncode == 2 and "no run of idx/cms is current" in nothing.stderr, nothing.stderr

    dbench.site.delay = 4.0  # one worker alone takes ~48 s: long enough for the others to start under load
    coordinator = dbench.start("crawl", "cms", "--full", "--workers", "1", "--report", str(dbench.tmp / "report.json"))
    client = redis_server.client()
    run_id = wait_fetching(client, 1)

    # three processes at once (each takes seconds to start on a loaded machine): a worker whose settings
    # differ, a second coordinator from another state directory, and a worker that joins
    differs = start_cli(dbench, elsewhere, "worker", "cms", "-s", "push.batch_max_items=7")
    second = start_cli(dbench, other_machine(dbench, "third"), "crawl", "cms", "--full", "--workers", "1")
    joined = start_cli(dbench, elsewhere, "worker", "cms", "--worker-id", "elsewhere")
    out = differs.communicate(timeout=120)[0]
    assert differs.returncode == 2 and "differ from the coordinator's" in out, out
    assert "in: push;" in out  # the section that differs is named
    out = second.communicate(timeout=120)[0]
    assert second.returncode == 75 and "another coordinator runs idx/cms" in out, out
    out = joined.communicate(timeout=180)[0]
    assert joined.returncode == 0, out
    out, _ = coordinator.communicate(timeout=180)
    assert coordinator.returncode == 0, out
    rep = dbench.report()
    assert rep["status"] == "finished" and rep["ordering_id"]
    assert rep["extra"]["workers"]["elsewhere"]["fetched"] > 0  # it did part of the work
    assert sum(w["pushed"] for w in rep["extra"]["workers"].values()) == 24
    dbench.assert_index_matches_cms()
    assert sorted(dbench.pushed_ids(rep["ordering_id"])) == sorted(dbench.site.current_ids())  # each once
    assert not (elsewhere / "state" / "state.sqlite").exists()  # the joining worker kept no state of its own
    assert run_id not in [None] and workers_of(client, run_id) == {}  # the run's keys are gone from Redis
