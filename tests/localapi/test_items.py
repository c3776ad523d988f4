"""Items: single push (E2), delete (E3), olderthan (E4), status (E1), ordering ids, content decoding."""

from __future__ import annotations

import base64
import gzip
import lzma
import zlib

import pytest

from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def test_status_accepts_known_values(client: Client, source: str) -> None:
    url = f"{client.push}/sources/{source}/status"
    r = client.call("POST", url, statusType="rebuild")
    assert (r.status_code, r.json()) == (201, {})
    assert client.call("POST", url, statusType="BOGUS").json()["errorCode"] == "INVALID_PARAMETER"
    r = client.call("POST", url)
    assert (r.status_code, r.json()["errorCode"]) == (412, "MISSING_PARAMETER")


def test_single_push_is_searchable_after_apply(client: Client, source: str) -> None:
    r = client.put_doc(
        source,
        "https://x.test/a",
        {
            "title": "Hello world",
            "data": "alpha beta gamma",
            "author": "Ann",
            "permissions": PUBLIC,
            "kb_cat": "x",
        },
    )
    assert (r.status_code, r.json()) == (202, {})
    client.idle()
    found = client.search("gamma")
    assert found["totalCount"] == 1
    hit = found["results"][0]
    assert hit["title"] == "Hello world" and hit["uri"] == "https://x.test/a"
    assert hit["raw"]["author"] == "Ann" and "kb_cat" not in hit["raw"]  # not a field: collected only
    assert client.search("title")["totalCount"] == 0
    assert client.search("hello")["totalCount"] == 1


def test_legacy_prefix_and_status_route(client: Client, source: str) -> None:
    url = f"{client.base}/v1/organizations/pushcrawl-local/sources/{source}/documents"
    r = client.call("PUT", url, {"data": "legacy words", "permissions": PUBLIC}, documentId="https://x.test/l")
    assert r.status_code == 202
    client.idle()
    status = client.call("GET", "/local/status").json()
    assert status == {"pending": 0, "items": {source: 1}}


@pytest.mark.parametrize(
    "ctype,pack",
    [
        ("UNCOMPRESSED", lambda b: b),
        ("ZLIB", zlib.compress),
        ("GZIP", gzip.compress),
        ("LZMA", lzma.compress),
        ("DEFLATE", lambda b: zlib.compress(b)[2:-4]),
    ],
)
def test_compressed_binary_data(client: Client, source: str, ctype: str, pack: object) -> None:
    raw = b"<html><head><title>Packed page</title></head><body><p>zebra crossing</p></body></html>"
    data = base64.b64encode(pack(raw)).decode()  # type: ignore[operator]
    r = client.put_doc(
        source,
        "https://x.test/c",
        {"compressedBinaryData": data, "fileExtension": ".html", "permissions": PUBLIC},
        compressionType=ctype,
    )
    assert r.status_code == 202, r.text
    client.idle()
    hit = client.search("zebra")["results"][0]
    assert hit["title"] == "Packed page"


def test_body_compression_type_wins(client: Client, source: str) -> None:
    data = base64.b64encode(b"plain quokka").decode()
    client.put_doc(
        source,
        "https://x.test/b",
        {"compressedBinaryData": data, "compressionType": "UNCOMPRESSED", "permissions": PUBLIC},
    )
    client.idle()
    assert client.search("quokka")["totalCount"] == 1


def test_delete_and_delete_children(client: Client, source: str) -> None:
    for doc in ("https://x.test/f", "https://x.test/f/a", "https://x.test/f/sub/b", "https://x.test/fx"):
        client.put_doc(source, doc, {"data": "walrus", "permissions": PUBLIC})
    client.idle()
    url = f"{client.push}/sources/{source}/documents"
    r = client.call("DELETE", url, documentId="https://x.test/f", deleteChildren="true")
    assert (r.status_code, r.json()) == (202, {})
    client.idle()
    uris = {h["uri"] for h in client.search("walrus", numberOfResults=10)["results"]}
    assert uris == {"https://x.test/fx"}
    r = client.call("DELETE", url)
    assert r.json()["errorCode"] == "MISSING_PARAMETER"


def test_out_of_sequence_operation_is_dropped(client: Client, source: str) -> None:
    client.put_doc(source, "https://x.test/o", {"data": "newer", "permissions": PUBLIC}, orderingId=200)
    client.idle()
    client.put_doc(source, "https://x.test/o", {"data": "older", "permissions": PUBLIC}, orderingId=100)
    client.call("DELETE", f"{client.push}/sources/{source}/documents", documentId="https://x.test/o", orderingId=150)
    client.idle()
    assert client.search("newer")["totalCount"] == 1
    assert client.search("older")["totalCount"] == 0
    with client.server.store.read() as db:
        outcomes = [r[0] for r in db.execute("SELECT outcome FROM activity WHERE document_id='https://x.test/o'")]
    assert outcomes.count("OUT_OF_SEQUENCE_OPERATION") == 2


def test_delete_older_than_honours_queue_delay_and_threshold(client: Client, source: str) -> None:
    client.put_doc(source, "https://x.test/old", {"data": "otter", "permissions": PUBLIC}, orderingId=10)
    client.put_doc(source, "https://x.test/new", {"data": "otter", "permissions": PUBLIC}, orderingId=30)
    client.idle()
    url = f"{client.push}/sources/{source}/documents/olderthan"
    assert client.call("DELETE", url).json()["errorCode"] == "MISSING_PARAMETER"
    assert client.call("DELETE", url, orderingId="abc").json()["errorCode"] == "INVALID_PARAMETER"
    r = client.call("DELETE", url, orderingId=20, queueDelay=5)  # 5 "minutes" = 0.05 s at scale 0.01
    assert (r.status_code, r.json()) == (202, {})
    assert client.server.store.pending() == 1
    client.idle()
    assert [h["uri"] for h in client.search("otter")["results"]] == ["https://x.test/new"]
    client.put_doc(source, "https://x.test/late", {"data": "otter", "permissions": PUBLIC}, orderingId=15)
    client.idle()
    assert client.search("otter")["totalCount"] == 1  # below the threshold: rejected


def test_processing_delay_defers_apply(tmp_path: object) -> None:
    from pathlib import Path

    from crawler.localapi import LocalPushAPI

    srv = LocalPushAPI(Path(str(tmp_path)) / "d", processing_delay=0.3)
    srv.start()
    try:
        c = Client(srv, key="anything")  # dev mode: no keys configured, any bearer works
        src = c.create_source("slow")
        c.put_doc(src, "https://x.test/s", {"data": "sloth", "permissions": PUBLIC})
        assert c.search("sloth")["totalCount"] == 0
        assert srv.wait_idle(5)
        assert c.search("sloth")["totalCount"] == 1
    finally:
        srv.stop()
