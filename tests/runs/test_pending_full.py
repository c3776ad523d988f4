"""A killed ``--full`` is finished by the next scheduled (incremental) run, not left half done (issue 17, #4).

The reindex changes every page; the kill lands after a few batches. The plain ``pushcrawl crawl`` that a
schedule runs next must continue the reindex as a full run — push what the killed run did not, skip what it
did — so the index equals the CMS afterwards; the run after that is incremental again.
"""

from __future__ import annotations

import signal

import pytest

from tests.runs.conftest import Bench, wait_for

pytestmark = pytest.mark.integration


def _acked(bench: Bench) -> dict[str, int]:
    with bench.state() as db:
        return dict(db.execute("SELECT document_id, ordering_id FROM items").fetchall())


def test_incremental_run_after_a_killed_full_run_completes_the_reindex(bench: Bench) -> None:
    assert bench.crawl("--full").returncode == 0
    for slug in bench.site.pages:
        bench.site.change(slug)
    before = _acked(bench)
    bench.site.delay = 0.2
    proc = bench.start("crawl", "cms", "--full")
    try:
        wait_for(lambda: len(set(_acked(bench).items()) - set(before.items())) >= 4, 60, "a batch acknowledged")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    bench.site.delay = 0.0
    acked_by_killed = {d for d, o in _acked(bench).items() if before.get(d) != o}
    assert 0 < len(acked_by_killed) < len(bench.site.pages), "the kill should land mid-reindex"

    scheduled = bench.crawl()  # what `pushcrawl schedule` runs: no --full
    assert scheduled.returncode == 0, scheduled.stderr[-3000:]
    report = bench.report()
    assert report["mode"] == "full" and report["status"] == "finished"
    assert "continues it as a full run" in scheduled.stderr
    bench.assert_index_matches_cms()  # every page carries its new text: the reindex is done
    again = set(bench.pushed_ids(report["ordering_id"])) & acked_by_killed
    assert not again, f"items the killed run acknowledged were pushed again: {sorted(again)}"

    after = bench.crawl()
    assert after.returncode == 0 and bench.report()["mode"] == "incremental"
