"""The local Source Logs API (docs/push-api-contract.md, "Source Logs API"; issue 16): per-item pipeline outcomes
with their stage, filters, paging and errors, on the same server as the Push API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import KEY, ORG, Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def _window(days: float = 1) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": (now - timedelta(days=days)).isoformat(), "to": (now + timedelta(minutes=1)).isoformat()}


def _logs(client: Client, body: Any = None, key: str | None = None, **params: Any) -> requests.Response:
    params = {**_window(), **params}
    return client.call("POST", f"/logs/v1/organizations/{ORG}", body if body is not None else {}, key=key, **params)


def _entries(client: Client, body: Any = None, **params: Any) -> list[dict[str, Any]]:
    r = _logs(client, body, **params)
    assert r.status_code == 200, r.text
    return list(r.json()["documentLogEntries"])


def test_pipeline_outcomes_are_logged_with_their_stage(client: Client, source: str) -> None:
    ok = client.put_doc(source, "https://x.test/ok", {"data": "fine", "permissions": PUBLIC}, orderingId=100)
    assert ok.status_code == 202
    client.idle()
    # below the olderthan threshold, and out of sequence: both 202 now, REJECTED later
    client.call("DELETE", f"{client.push}/sources/{source}/documents/olderthan", orderingId=50)
    client.idle()
    client.put_doc(source, "https://x.test/old", {"data": "late", "permissions": PUBLIC}, orderingId=10)
    client.put_doc(source, "https://x.test/ok", {"data": "stale", "permissions": PUBLIC}, orderingId=90)
    # a batch entry the validation refuses (data and binary data together)
    bad = {"documentId": "https://x.test/bad", "data": "x", "compressedBinaryData": "eA=="}
    assert client.batch(source, {"addOrUpdate": [bad]}, orderingId=200).status_code == 202
    client.idle()
    by_id = {(e["id"], e["result"]): e for e in _entries(client)}
    done = by_id[("https://x.test/ok", "COMPLETED")]
    assert (done["operation"], done["task"], done["sourceId"]) == ("ADD", "INDEXING", source)
    below = by_id[("https://x.test/old", "REJECTED")]
    assert below["task"] == "CONSUMING" and "olderthan threshold" in below["meta"]["error"]
    stale = by_id[("https://x.test/ok", "REJECTED")]
    assert stale["meta"]["errorCode"] == "OUT_OF_SEQUENCE_OPERATION"
    refused = by_id[("https://x.test/bad", "REJECTED")]
    assert refused["task"] == "VALIDATION" and refused["meta"]["error"]
    older = [e for e in _entries(client) if e["operation"] == "DELETE_OLDER_THAN"]
    assert older and older[0]["result"] == "COMPLETED"
    for entry in by_id.values():
        assert set(entry) >= {"guid", "id", "datetime", "organizationId", "sourceId", "operation", "result", "meta"}
        assert entry["datetime"].endswith("Z") and entry["organizationId"] == ORG


def test_filters_exclusions_and_paging(client: Client, source: str) -> None:
    other = client.create_source("other", "SHARED")
    for i in range(5):
        client.put_doc(source, f"https://x.test/p{i}", {"data": "x", "permissions": PUBLIC})
    client.put_doc(other, "https://y.test/q", {"data": "x"})
    client.idle()
    client.put_doc(source, "https://x.test/p0", {"data": "late"}, orderingId=1)
    client.idle()
    assert {e["sourceId"] for e in _entries(client, {"sourcesIds": [other]})} == {other}
    assert len(_entries(client, {"sourcesIds": [source], "results": ["REJECTED"]})) == 1
    assert all(e["result"] != "REJECTED" for e in _entries(client, {"excludeResults": ["REJECTED"]}))
    # an allow-list wins over its exclude-list
    assert len(_entries(client, {"results": ["REJECTED"], "excludeResults": ["REJECTED"]})) == 1
    assert len(_entries(client, {"operations": ["ADD"], "tasks": ["INDEXING"]})) == 6
    assert [e["id"] for e in _entries(client, documentId="https://x.test/p3")] == ["https://x.test/p3"]
    assert len(_entries(client, documentId="x.test/p", documentIdMatching="PARTIAL")) == 6
    assert len(_entries(client, documentId="https://x.test/p[12]", documentIdMatching="WILDCARD")) == 2
    pages = [_logs(client, {"sourcesIds": [source]}, page=p, perPage=4).json() for p in range(2)]
    assert [len(p["documentLogEntries"]) for p in pages] == [4, 2]
    assert [p["hasNextPage"] for p in pages] == [True, False]
    ids = [e["guid"] for p in pages for e in p["documentLogEntries"]]
    assert len(set(ids)) == 6


def test_errors_are_400s_and_keys_are_checked(client: Client, source: str) -> None:
    now = datetime.now(UTC)
    eight_days = {"from": (now - timedelta(days=8)).isoformat(), "to": now.isoformat()}
    cases: list[tuple[Any, dict[str, Any], str]] = [
        ({}, eight_days, "7 days"),
        ({}, {"from": "yesterday"}, "W3C datetime"),
        ({}, {"perPage": "0"}, "perPage"),
        ({"results": ["DONE"]}, {}, "unknown value"),
        ({"colour": ["x"]}, {}, "Unknown filter"),
        ({"tasks": "INDEXING"}, {}, "array of strings"),
        ({}, {"documentIdMatching": "FUZZY"}, "documentIdMatching"),
    ]
    for body, params, words in cases:
        r = _logs(client, body, **params)
        assert r.status_code == 400 and words in r.json()["message"], (body, params, r.text)
    r = client.call("POST", f"/logs/v1/organizations/{ORG}", {})
    assert (r.status_code, r.json()["errorCode"]) == (400, "MISSING_PARAMETER")
    assert _logs(client, key="nope").status_code == 401
    assert _logs(client, key="ro").status_code == 200  # a view key reads the logs
    r = client.call("POST", "/logs/v1/organizations/other-org", {}, **_window())
    assert r.status_code == 404


def test_logs_faults_apply_only_when_named(tmp_path: Path) -> None:
    """A client's backoff on the Logs API is testable offline; a push fault spec leaves the route alone."""
    for spec, expected in (("429=1", 200), ("429=1@logs", 429), ("5xx=1@logs", None)):
        with LocalPushAPI(tmp_path / spec, api_keys=[KEY], faults=spec) as server:
            r = _logs(Client(server))
            assert r.status_code == expected if expected else r.status_code in (500, 503, 504), (spec, r.text)


def test_pages_read_in_order_resume_where_the_last_one_ended_and_match_pages_read_out_of_order(
    client: Client, source: str
) -> None:
    for i in range(7):
        client.put_doc(source, f"https://x.test/r{i}", {"data": "x", "permissions": PUBLIC})
    client.idle()
    window = _window()  # one query: the same from/to for every page

    def page(p: int, per_page: int = 3) -> dict[str, Any]:
        r = client.call(
            "POST", f"/logs/v1/organizations/{ORG}", {"sourcesIds": [source]}, **window, page=p, perPage=per_page
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    in_order = [page(p) for p in range(3)]  # pages 1 and 2 start from the remembered end of the page before
    assert [len(p["documentLogEntries"]) for p in in_order] == [3, 3, 1]
    assert [p["hasNextPage"] for p in in_order] == [True, True, False]
    guids = [e["guid"] for p in in_order for e in p["documentLogEntries"]]
    assert len(set(guids)) == 7
    # the same pages asked out of order (no remembered position: entries before are skipped) agree
    assert page(2) == in_order[2] and page(1) == in_order[1] and page(0) == in_order[0]
    # another page size is another query: its pages are not confused with these
    assert [e["guid"] for e in page(1, per_page=5)["documentLogEntries"]] == guids[5:]
