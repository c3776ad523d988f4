"""Full reindex, incremental runs, sweeps, incomplete listings and the mass-deletion guard, end to end."""

from __future__ import annotations

import json

import pytest

from pipelines import ORDER
from tests.runs.conftest import Bench

pytestmark = pytest.mark.integration


def test_full_then_change_then_incremental_pushes_only_the_change(bench: Bench) -> None:
    first = bench.crawl("--full")
    assert first.returncode == 0, first.stderr
    assert set(bench.index()) == bench.site.current_ids()
    assert bench.report()["counts"]["pushed"] == 24

    bench.site.change("page-5")
    second = bench.crawl()
    assert second.returncode == 0, second.stderr
    rep = bench.report()
    assert rep["mode"] == "incremental"
    assert rep["counts"]["pushed"] == 1 and rep["counts"]["unchanged"] == 23
    assert bench.pushed_ids(rep["ordering_id"]) == [bench.site.url("page-5")]
    assert "Revised" in bench.index()[bench.site.url("page-5")]
    bench.assert_index_matches_cms()


def test_full_reindex_sweeps_exactly_the_removed_items(bench: Bench) -> None:
    assert bench.crawl("--full").returncode == 0
    bench.site.remove("page-3")
    bench.site.remove("page-17")
    run = bench.crawl("--full")
    assert run.returncode == 0, run.stderr
    rep = bench.report()
    assert sorted(rep["deleted_ids"]) == sorted([bench.site.url("page-3"), bench.site.url("page-17")])
    assert rep["counts"]["deleted"] == 2
    assert set(bench.index()) == bench.site.current_ids()
    with bench.api.store.read() as db:  # the source was in REBUILD during each run, IDLE after
        statuses = [r[0] for r in db.execute("SELECT detail FROM activity WHERE operation='SET_STATUS' ORDER BY id")]
    assert statuses == ["REBUILD", "IDLE", "REBUILD", "IDLE"]
    with bench.state() as db:  # the state store forgot them too, and the full lineage is closed
        assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 22
        assert db.execute("SELECT count(*) FROM full_runs").fetchone()[0] == 0


def test_failed_listing_deletes_nothing_and_says_why(bench: Bench) -> None:
    assert bench.crawl("--full").returncode == 0
    bench.site.remove("page-2")
    bench.site.fail_listing(1)  # half of the sitemap answers 500
    run = bench.crawl("--full")
    assert run.returncode != 0
    rep = bench.report()
    assert rep["status"] == "failed"
    assert "listing page(s) failed" in rep["message"] and "nothing swept" in rep["message"]
    assert "sitemap-1.xml" in rep["message"]
    assert rep["counts"]["deleted"] == 0 and rep["deleted_ids"] == []
    assert len(bench.index()) == 24  # page-2 and the unlisted half are all still there
    assert "nothing swept" in run.stderr

    bench.site.fail_listing(1, False)  # the next full run resumes the lineage and sweeps page-2 only
    again = bench.crawl("--full")
    assert again.returncode == 0, again.stderr
    assert bench.report()["deleted_ids"] == [bench.site.url("page-2")]
    assert set(bench.index()) == bench.site.current_ids()


def test_mass_deletion_is_refused_then_allowed(bench: Bench) -> None:
    assert bench.crawl("--full").returncode == 0
    for n in range(14):  # 14 of 24 > max_deletions 0.5
        bench.site.remove(f"page-{n}")

    dry = bench.crawl("--full", "--dry-run")
    assert dry.returncode == 3  # a data-safety refusal, apart from failures (1)
    assert "would delete 14" in dry.stderr
    assert dry.stdout.count('"wouldDelete"') == 14
    assert "--allow-mass-deletion" in bench.report()["message"]

    refused = bench.crawl("--full")
    assert refused.returncode == 3
    assert "--allow-mass-deletion" in refused.stderr and "Nothing was deleted" in refused.stderr
    assert len(bench.index()) == 24

    allowed = bench.crawl("--full", "--allow-mass-deletion")
    assert allowed.returncode == 0, allowed.stderr
    assert set(bench.index()) == bench.site.current_ids()
    # the refused run had pushed the 10 survivors already; the resumed lineage did not push them again
    assert bench.report()["counts"]["pushed"] == 0 and bench.report()["counts"]["unchanged"] == 10


def test_dry_run_full_shows_the_real_plan_and_changes_nothing(bench: Bench) -> None:
    assert bench.crawl("--full").returncode == 0
    bench.site.remove("page-9")
    dry = bench.crawl("--full", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would push 23, would delete 1" in dry.stderr
    assert bench.site.url("page-9") in dry.stdout
    assert len(bench.index()) == 24
    with bench.state() as db:
        assert db.execute("SELECT count(*) FROM items").fetchone()[0] == 24


def test_an_item_that_crashes_a_pipeline_blocks_the_sweep(bench: Bench) -> None:
    assert bench.crawl("--full").returncode == 0
    pipelines = {**ORDER, "tests.runs.boom.BoomPipeline": 150}
    settings = bench.settings.read_text().replace(
        "RETRY_ENABLED: false}", f"RETRY_ENABLED: false, ITEM_PIPELINES: {json.dumps(pipelines)}}}"
    )
    bench.settings.write_text(settings)
    bench.site.remove("page-9")
    run = bench.crawl("--full")
    assert run.returncode == 1
    rep = bench.report()
    assert rep["counts"]["errors"] == 1 and "nothing swept" in rep["message"]
    index = bench.index()
    assert bench.site.url("page-4") in index  # not pushed this time, and not swept either
    assert bench.site.url("page-9") in index  # the sweep waits for a complete run
