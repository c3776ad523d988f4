"""Request validation: INVALID_JSON, 413 limits, 415 content type, scoped keys (403), dev mode."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import Client


@pytest.mark.parametrize(
    "raw,why",
    [
        (b"{not json", "not valid JSON"),
        (b'{"title": "a", "Title": "b"}', "more than once"),
        (b'{"meta": {"a": 1}}', "object"),
        (b'{"meta": [[1]]}', "nested"),
        (b'{"data": "a", "compressedBinaryData": "YQ=="}', "only one"),
        (b'{"compressedBinaryData": "***"}', "base64"),
        (b'{"permissions": {"a": 1}}', "permissions"),
        (b"[1, 2]", "object"),
    ],
)
def test_invalid_json(client: Client, source: str, raw: bytes, why: str) -> None:
    r = client.call("PUT", f"{client.push}/sources/{source}/documents", raw=raw, documentId="https://x.test/a")
    assert (r.status_code, r.json()["errorCode"]) == (400, "INVALID_JSON")
    assert why in r.json()["message"]


def test_parameter_errors(client: Client, source: str) -> None:
    url = f"{client.push}/sources/{source}/documents"
    r = client.call("PUT", url, {"data": "x"})
    assert (r.status_code, r.json()["errorCode"]) == (412, "MISSING_PARAMETER")
    r = client.call("PUT", url, {"data": "x"}, documentId="https://x.test/a", orderingId="-1")
    assert (r.status_code, r.json()["errorCode"]) == (412, "INVALID_PARAMETER")
    r = client.call("PUT", url, {"documentId": "https://x.test/b"}, documentId="https://x.test/a")
    assert (r.status_code, r.json()["errorCode"]) == (412, "INVALID_PARAMETER")
    r = client.call("PUT", url, {"data": "x"}, documentId="https://x.test/a", compressionType="RAR")
    assert (r.status_code, r.json()["errorCode"]) == (412, "INVALID_PARAMETER")
    r = client.call("DELETE", url, documentId="https://x.test/a", deleteChildren="maybe")
    assert (r.status_code, r.json()["errorCode"]) == (412, "INVALID_PARAMETER")


def test_size_limits(client: Client, source: str) -> None:
    url = f"{client.push}/sources/{source}/documents"
    r = client.call("PUT", url, {"data": "x" * (6 * 1024 * 1024 + 10)}, documentId="https://x.test/big")
    assert r.status_code == 413
    r = client.call("PUT", url, {"data": "é" * (2 * 1024 * 1024 + 1024 * 600)}, documentId="https://x.test/b")
    assert r.status_code == 413  # 5.2 MB of UTF-8 data inside a < 6 MB request
    blob = base64.b64encode(b"x" * (5 * 1024 * 1024 + 100)).decode()
    assert client.call("PUT", url, {"compressedBinaryData": blob}, documentId="https://x.test/c").status_code == 413


def test_content_type(client: Client, source: str) -> None:
    url = f"{client.push}/sources/{source}/documents"
    r = client.call(
        "PUT",
        url,
        raw=b"data=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        documentId="https://x.test/a",
    )
    assert (r.status_code, r.json()["errorCode"]) == (415, "UNSUPPORTED_MEDIA_TYPE")


def test_scoped_keys(client: Client, source: str) -> None:
    other = client.create_source("other")
    doc = {"data": "x"}
    assert client.put_doc(source, "https://x.test/a", doc).status_code == 202
    r = client.call("PUT", f"{client.push}/sources/{source}/documents", doc, key="ro", documentId="https://x.test/a")
    assert (r.status_code, r.json()["errorCode"]) == (403, "ACCESS_DENIED")
    assert (
        client.call(
            "PUT",
            f"{client.push}/sources/{other}/documents",
            doc,
            key="pusher",
            documentId="https://x.test/a",
        ).status_code
        == 202
    )
    assert (
        client.call(
            "PUT", f"{client.push}/providers/p/permissions", {"identity": {"name": "u"}}, key="pusher"
        ).status_code
        == 403
    )
    assert (
        client.call("PUT", f"{client.push}/providers/p/permissions", {"identity": {"name": "u"}}, key="ids").status_code
        == 202
    )
    assert client.call("POST", f"{client.push}/files", key="ids").status_code == 201
    assert client.call("POST", f"{client.push}/files", key="ro").status_code == 403
    client.idle()
    assert client.search("", key="ro")["totalCount"] == 2  # items without permissions are public
    assert client.call("POST", "/rest/search/v2", {"q": ""}, key="pusher").status_code == 403
    token = client.token("someone")
    assert client.put_doc(source, "https://x.test/t", doc, key=token).status_code in (401, 403)


def test_source_scoped_key(tmp_path: Path) -> None:
    srv = LocalPushAPI(tmp_path / "d", api_keys=["admin", "one:push=PLACEHOLDER"])
    srv.start()
    try:
        admin = Client(srv, "admin")
        src, other = admin.create_source("a"), admin.create_source("b")
        srv.ctx.auth.keys["one"] = frozenset({f"push={src}"})
        one = Client(srv, "one")
        assert one.put_doc(src, "https://x.test/a", {"data": "x"}).status_code == 202
        assert one.put_doc(other, "https://x.test/a", {"data": "x"}).status_code == 403
    finally:
        srv.stop()


def test_rejections_reach_the_activity_log(client: Client, source: str) -> None:
    client.call("PUT", f"{client.push}/sources/{source}/documents", raw=b"{", documentId="https://x.test/r")
    with client.server.store.read() as db:
        row = db.execute("SELECT * FROM activity WHERE document_id = 'https://x.test/r'").fetchone()
    assert (row["target"], row["operation"], row["outcome"]) == (source, "DOCUMENT", "HTTP 400 INVALID_JSON")


def test_identity_disable_accepts_bare_identity(client: Client) -> None:
    url = f"{client.push}/providers/p/permissions"
    assert client.call("PUT", url, {"identity": {"name": "u", "type": "User"}}).status_code == 202
    assert client.call("DELETE", url, {"name": "u", "type": "USER"}).status_code == 202  # 2017 shape
    client.idle()
    with client.server.store.read() as db:
        assert db.execute("SELECT disabled FROM identities WHERE name = 'u'").fetchone()[0] == 1


def test_chunked_body_is_bounded_too(client: Client, source: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"data": "'
        for _ in range(7):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    r = client.session.put(
        f"{client.push}/sources/{source}/documents",
        params={"documentId": "https://x.test/c"},
        data=chunks(),
        headers={"Authorization": "Bearer test-key", "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 413
