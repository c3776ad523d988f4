"""Indexed, not just accepted (issue 16): items the local Push API refuses after its 202 are named, lose their
fingerprint and are pushed again — and only they — once the cause is gone; ``--wait-indexed``; a lost 202.

The bench (tests/runs/conftest.py) reaches the local Push API as a ``kind: coveo`` target, so every call —
batches and the Source Logs API reads — goes over HTTP as it would to Coveo.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import requests

from crawler.localapi.faults import Faults
from tests.conftest import cli_in_process
from tests.runs.conftest import KEY, ORG, Bench

FUTURE = 10**16  # another pusher's orderingId scheme (ns-scale): every later ms-scale operation looks old


def _push_direct(bench: Bench, doc_id: str, ordering_id: int) -> None:
    url = f"{bench.api.base_url}/push/v1/organizations/{ORG}/sources/{bench.source_id}/documents"
    resp = requests.put(
        url,
        params={"documentId": doc_id, "orderingId": ordering_id},
        json={"data": "pushed by another tool", "title": "other"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )
    assert resp.status_code == 202, resp.text
    assert bench.api.wait_idle(30)


def _fingerprinted(bench: Bench) -> set[str]:
    with bench.state() as db:
        return {r[0] for r in db.execute("SELECT document_id FROM items")}


def test_out_of_sequence_items_are_named_lose_their_fingerprint_and_only_they_go_again(bench: Bench) -> None:
    victims = {bench.site.url("page-3"), bench.site.url("page-17")}
    for doc_id in victims:
        _push_direct(bench, doc_id, FUTURE)

    first = bench.crawl("--wait-indexed=30")
    report = bench.report()
    assert first.returncode == 4, first.stderr  # finished, but the index refused two items
    funnel = report["extra"]["funnel"]
    assert (funnel["pushed"], funnel["indexed"], funnel["rejected"], funnel["pending"]) == (24, 22, 2, 0)
    rejected = {r["id"]: r for r in report["extra"]["rejected"]}
    assert set(rejected) == victims
    assert all(r["task"] == "CONSUMING" and "OUT_OF_SEQUENCE" in r["reason"] for r in rejected.values())
    assert "NOT INDEXED" in first.stderr and bench.site.url("page-3") in first.stderr
    assert _fingerprinted(bench) == bench.site.current_ids() - victims

    # the cause goes away (the other tool's sequence numbers are forgotten by the index)
    with bench.api.store.write() as db:
        db.execute("DELETE FROM seqs WHERE source_id=?", (bench.source_id,))
    second = bench.crawl("--wait-indexed=30")
    assert second.returncode == 0, second.stderr
    again = bench.report()
    assert sorted(bench.pushed_ids(again["ordering_id"])) == sorted(victims)
    assert again["extra"]["funnel"]["indexed"] == 2 and again["extra"]["funnel"]["rejected"] == 0
    assert _fingerprinted(bench) == bench.site.current_ids()


def test_items_below_an_olderthan_threshold_are_rejected_and_pushed_again(bench: Bench) -> None:
    url = f"{bench.api.base_url}/push/v1/organizations/{ORG}/sources/{bench.source_id}/documents/olderthan"
    threshold = int(time.time() * 1000) + 3_600_000  # a clock an hour ahead swept the source
    resp = requests.delete(url, params={"orderingId": threshold}, headers={"Authorization": f"Bearer {KEY}"})
    assert resp.status_code == 202
    assert bench.api.wait_idle(30)

    first = bench.crawl("--wait-indexed=30")
    assert first.returncode == 4, first.stderr
    report = bench.report()
    assert report["extra"]["rejected_total"] == 24 and len(report["extra"]["rejected"]) == 24
    assert all("olderthan" in r["reason"] for r in report["extra"]["rejected"])
    assert "pushcrawl runs show" in first.stderr  # more than the summary names: where the rest are
    assert _fingerprinted(bench) == set()

    with bench.api.store.write() as db:
        db.execute("UPDATE sources SET threshold=0 WHERE id=?", (bench.source_id,))
    second = bench.crawl("--wait-indexed=30")
    assert second.returncode == 0, second.stderr
    assert sorted(bench.pushed_ids(bench.report()["ordering_id"])) == sorted(bench.site.current_ids())


def test_wait_indexed_returns_once_everything_is_applied(bench: Bench) -> None:
    done = bench.crawl("--wait-indexed=30")
    assert done.returncode == 0, done.stderr
    funnel = bench.report()["extra"]["funnel"]
    assert funnel == {
        "fetched": funnel["fetched"],
        "mapped": 24,
        "pushed": 24,
        "indexed": 24,
        "rejected": 0,
        "pending": 0,
        "checked": True,
    }
    assert "→ pushed 24 (202) → indexed 24 · rejected 0 · pending 0" in done.stderr


def test_a_run_whose_logs_could_not_be_read_is_settled_by_the_next_one(bench: Bench) -> None:
    bench.api.app.faults = Faults.parse("5xx=1@logs")  # every Source Logs read fails, after its retries
    first = bench.crawl()
    assert first.returncode == 0, first.stderr  # reading the logs is not pushing: the run still finished
    report = bench.report()
    assert report["extra"]["funnel"]["checked"] is False and "read source logs" in report["extra"]["reconcile_error"]
    first_id = report["extra"]["run_id"]

    bench.api.app.faults = Faults()
    assert bench.api.wait_idle(30)
    second = bench.crawl()
    assert second.returncode == 0, second.stderr
    earlier = bench.report()["extra"]["earlier_runs"]
    assert [(r["run_id"], r["pushed"], r["indexed"], r["pending"]) for r in earlier] == [(first_id, 24, 24, 0)]

    shown = cli_in_process("runs", "show", str(first_id), "--json", "--settings", str(bench.settings))
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["indexing"]["indexed"] == 24


@pytest.mark.faults("lost=1@batch")
def test_a_lost_202_counts_as_acknowledged_and_nothing_is_sent_twice(bench: Bench) -> None:
    done = bench.crawl("--wait-indexed=30")
    assert done.returncode == 0, done.stderr
    report = bench.report()
    assert report["counts"]["pushed"] == 24 and report["counts"]["errors"] == 0
    applied = Counter(bench.pushed_ids())
    assert set(applied) == bench.site.current_ids() and set(applied.values()) == {1}
    assert report["extra"]["funnel"]["indexed"] == 24


@pytest.mark.faults("refuse=0.25,seed=7")
def test_items_the_pipeline_validation_refuses_are_named_and_only_they_go_again(bench: Bench) -> None:
    first = bench.crawl("--wait-indexed=30")
    assert first.returncode == 4, first.stderr
    with bench.api.store.read() as db:
        refused = {
            r[0] for r in db.execute("SELECT document_id FROM activity WHERE outcome='REJECTED' AND task='VALIDATION'")
        }
    assert 0 < len(refused) < 24  # the seed refuses some items, not all
    report = bench.report()
    assert {r["id"] for r in report["extra"]["rejected"]} == refused
    assert all(r["task"] == "VALIDATION" and "refused" in r["reason"] for r in report["extra"]["rejected"])
    assert _fingerprinted(bench) == bench.site.current_ids() - refused

    bench.api.app.faults = Faults()  # the cause is gone
    second = bench.crawl("--wait-indexed=30")
    assert second.returncode == 0, second.stderr
    assert sorted(bench.pushed_ids(bench.report()["ordering_id"])) == sorted(refused)

    shown = cli_in_process("runs", "show", str(report["extra"]["run_id"]), "--settings", str(bench.settings))
    assert shown.returncode == 0
    assert all(f"rejected  {doc_id}: REJECTED at VALIDATION" in shown.stdout for doc_id in refused)
