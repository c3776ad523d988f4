"""The crawler's Source Logs API client (crawler.pushapi.logs) against the local Push API: windows of at most
7 days, paging, the page cap, backoff on 429/5xx, and the entries' shape (reasons, stages, orderingId)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.errors import PushError
from crawler.localapi import LocalPushAPI
from crawler.localapi.faults import Faults
from crawler.pushapi.core import RetryPolicy
from crawler.pushapi.logs import WINDOW, SourceLogsClient, windows
from tests.localapi.conftest import KEY, ORG, Client

FAST = RetryPolicy(max_attempts=6, backoff_base_s=0.01, backoff_max_s=0.05)


def _logs(server: LocalPushAPI) -> SourceLogsClient:
    return SourceLogsClient(f"{server.base_url}/logs/v1", ORG, KEY, FAST)


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


def test_a_long_span_is_cut_into_windows_the_api_accepts() -> None:
    until = datetime(2026, 12, 2, tzinfo=UTC)
    spans = list(windows(until - timedelta(days=10), until))
    assert len(spans) == 2 and all(end - start <= WINDOW for start, end in spans)
    assert spans[0][0] == until - timedelta(days=10) and spans[-1][1] == until
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous
    # never further back than the 14 days logs are kept
    assert next(iter(windows(until - timedelta(days=30), until)))[0] == until - timedelta(days=14)


def test_pages_are_followed_and_entries_carry_outcome_stage_and_reason(client: Client, source: str) -> None:
    client.batch(
        source, {"addOrUpdate": [{"documentId": f"https://x/{n}", "data": "t"} for n in range(7)]}, orderingId=100
    )
    client.put_doc(source, "https://x/3", {"data": "old"}, orderingId=50)  # older than the batch: refused
    client.idle()
    logs = _logs(client.server)
    got = logs.stream(source, _since(), per_page=3).collect()
    assert got.calls == 3 and not got.truncated  # 8 entries, 3 per page
    assert [e.document_id for e in got.entries].count("https://x/3") == 2
    last = got.entries[-1]
    assert (last.document_id, last.result, last.task, last.ordering_id) == ("https://x/3", "REJECTED", "CONSUMING", 50)
    assert "OUT_OF_SEQUENCE_OPERATION" in last.reason
    assert all(e.result == "COMPLETED" and e.task == "INDEXING" for e in got.entries[:-1])

    capped = logs.stream(source, _since(), per_page=3, max_pages=2).collect()
    assert capped.truncated and len(capped.entries) == 6


def test_throttling_and_server_errors_are_retried(tmp_path: Path) -> None:
    with LocalPushAPI(tmp_path / "d", api_keys=[KEY], faults="429=0.5@logs,5xx=0.3@logs,seed=3") as server:
        source = Client(server).create_source("docs")
        logs = _logs(server)
        got = logs.stream(source, _since()).collect()
        assert got.entries == [] and logs.retries_made > 0
        server.app.faults = Faults.parse("5xx=1@logs")
        with pytest.raises(PushError, match="read source logs: HTTP 5"):
            logs.stream(source, _since()).collect()
