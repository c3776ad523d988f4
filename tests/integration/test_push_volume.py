"""Pushing at volume through faults, and surviving SIGKILL, against the real local Push API as ``kind: coveo``.

- 5,000 documents in 40 batches while the server injects ~20 % 429 / 5xx / dropped connections: every one
  present once, report errors 0, retries visible in the log, the API key nowhere in logs or report. (The
  faults hit requests, and requests go per batch: 40 batches of 125 meet as many faults as 40 of 500 did,
  for a quarter of the pipeline work.)
- A run killed with SIGKILL while pushing, then run again: the index equals the source, what the killed run
  had acknowledged is not pushed again, the rest is.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, read_report, run_cli
from tests.fixtures import zygote
from tests.integration.push_helpers import (
    client_for,
    local_api,
    pending_batches,
    query,
    settings_text,
    source_id,
    state_items,
)

pytestmark = pytest.mark.integration

FAST_RETRIES = "retry_backoff_base_s: 0.02, retry_backoff_max_s: 0.3"


@pytest.mark.heavy
def test_5000_documents_in_40_batches_through_injected_faults(tmp_path: Path) -> None:
    faults = "429=0.07,5xx=0.07,reset=0.06,seed=7"
    with local_api(tmp_path / "index", faults) as (server, key):
        client_for(server, key).create_source("synth")
        settings = tmp_path / "settings.yaml"
        settings.write_text(
            settings_text(server, "{count: 5000, size: 300}", f"{{batch_max_items: 125, {FAST_RETRIES}}}")
        )
        report_file = tmp_path / "report.json"
        result = run_cli(
            "crawl",
            "synth",
            "-v",  # the retry and batch lines are INFO: in the run's log file, and live with -v
            "--settings",
            str(settings),
            "--report",
            str(report_file),
            env={"PUSH_TEST_KEY": key},
            timeout=400,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        report = read_report(report_file)
        assert report["counts"]["errors"] == 0
        assert report["counts"]["pushed"] == 5000
        assert report["batches"] == 40
        assert "retry" in result.stderr  # the faults were met and ridden out
        assert server.wait_idle(120)
        sid = source_id(server)
        [(total, distinct)] = query(
            server, "SELECT COUNT(*), COUNT(DISTINCT document_id) FROM items WHERE source_id = ?", sid
        )
        assert (total, distinct) == (5000, 5000)
        # every batch line says what was sent and how it went
        assert result.stderr.count("items batch") >= 40
        # status around the run: INCREMENTAL, then IDLE (push.set_source_status, on by default)
        statuses = [r[0] for r in query(server, "SELECT detail FROM activity WHERE operation='SET_STATUS' ORDER BY id")]
        assert statuses[-2:] == ["INCREMENTAL", "IDLE"]
        # secrets never leave the environment: not in logs, output or report
        for text in (result.stderr, result.stdout, report_file.read_text()):
            assert key not in text


def _wait_for_acks(state_file: Path, proc: zygote.Child, minimum: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("the crawl ended before it could be killed")
        # a batch must be on the wire at the kill: that is what the rerun has to recover
        if state_file.exists() and len(acked := state_items(state_file)) >= minimum and pending_batches(state_file):
            return len(acked)
        time.sleep(0.05)
    raise AssertionError("no batch acknowledged in time")


def test_sigkill_while_pushing_then_rerun(tmp_path: Path) -> None:
    count = 1200  # the kill lands after 300 acknowledged: the rerun still has the larger part to push
    # slow acknowledgements keep batches in flight, so the kill lands with one open in the journal
    with local_api(tmp_path / "index", "latency=200@batch") as (server, key):
        client_for(server, key).create_source("synth")
        settings = tmp_path / "settings.yaml"
        settings.write_text(
            settings_text(server, f"{{count: {count}, size: 1000}}", "{batch_max_items: 100, max_in_flight: 2}")
        )
        state_file = tmp_path / "state" / "state.sqlite"
        env = {**os.environ, "PUSH_TEST_KEY": key}
        # a real process of its own, forked from the zygote: SIGKILL ends it as it would a fresh interpreter
        proc = zygote.start(["crawl", "synth", "--settings", str(settings)], cwd=ROOT, env=env)
        try:
            _wait_for_acks(state_file, proc, 300, 120)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(30)
        acked_first = state_items(state_file)
        assert 300 <= len(acked_first) < count, "the kill must land in the middle of pushing"
        left_open = pending_batches(state_file)
        first_oid = next(iter(acked_first.values()))
        assert server.wait_idle(60)

    # second run: the same index, no latency
    with local_api(tmp_path / "index") as (server, key):
        settings.write_text(settings_text(server, f"{{count: {count}, size: 1000}}", "{batch_max_items: 100}"))
        report_file = tmp_path / "report.json"
        result = run_cli(
            "crawl", "synth", "--settings", str(settings), "--report", str(report_file), env={"PUSH_TEST_KEY": key}
        )
        assert result.returncode == 0, result.stderr[-3000:]
        # each batch the killed run left open is reported, then closed
        assert left_open >= 1
        assert result.stderr.count("left batch") == left_open
        assert pending_batches(state_file) == 0
        report = read_report(report_file)
        assert report["counts"]["unchanged"] == len(acked_first)
        assert report["counts"]["pushed"] == count - len(acked_first)
        assert server.wait_idle(60)
        rows = dict(query(server, "SELECT document_id, ordering_id FROM items WHERE source_id = ?", source_id(server)))
        # the index equals the source: nothing skipped
        assert set(rows) == {f"synthetic://doc/{i}" for i in range(count)}
        # nothing acknowledged was pushed twice: those items still carry the killed run's orderingId
        assert all(rows[doc] == first_oid for doc in acked_first)
        # everything else came from the second run
        second = report["ordering_id"]
        assert all(oid == second for doc, oid in rows.items() if doc not in acked_first)
        assert set(state_items(state_file)) == set(rows)
