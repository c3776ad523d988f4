"""`crawl SITE --workers N` end to end: a real Redis, real worker processes, the local Push API as the target."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.runs.conftest import Bench

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.slow]


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_push_the_whole_site_once_and_one_report_sums_them(dbench: Bench, workers: int) -> None:
    dbench.site.delay = 0.05  # every worker gets some of the pages
    run = dbench.crawl("--full", "--workers", str(workers))
    assert run.returncode == 0, run.stderr
    rep = dbench.report()
    assert rep["status"] == "finished", rep["message"]
    dbench.assert_index_matches_cms()
    pushed = Counter(dbench.pushed_ids(rep["ordering_id"]))
    assert set(pushed) == dbench.site.current_ids() and set(pushed.values()) == {1}  # each document once
    per_worker = rep["extra"]["workers"]
    assert len(per_worker) == workers
    assert sum(w["pushed"] for w in per_worker.values()) == rep["counts"]["pushed"] == 24
    assert sum(1 for w in per_worker.values() if w["fetched"]) >= 2  # the work was shared
    # every page was fetched once across the workers (the shared dupefilter), the sitemaps too
    assert dbench.site.hits_pages() == 24
