"""File containers (E5/E6) and batches (E7): upload rules, single use, per-item rejections, binary files."""

from __future__ import annotations

import io
import json
import zlib

import requests

from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def test_file_container_shape_and_upload_rules(client: Client) -> None:
    r = client.call("POST", f"{client.push}/files")
    assert r.status_code == 201
    container = r.json()
    assert set(container) == {"uploadUri", "fileId", "requiredHeaders"}
    assert container["uploadUri"].startswith(client.base)
    assert container["requiredHeaders"] == {
        "x-amz-server-side-encryption": "AES256",
        "Content-Type": "application/octet-stream",
    }
    bare = requests.put(container["uploadUri"], data=b"{}", timeout=10)
    assert bare.status_code == 403 and b"AccessDenied" in bare.content
    forged = requests.put(
        container["uploadUri"].replace("X-Signature=", "X-Signature=0"),
        data=b"{}",
        headers=container["requiredHeaders"],
        timeout=10,
    )
    assert forged.status_code == 403
    ok = requests.put(container["uploadUri"], data=b"{}", headers=container["requiredHeaders"], timeout=10)
    assert (ok.status_code, ok.content) == (200, b"")


def test_batch_applies_adds_and_deletes(client: Client, source: str) -> None:
    client.put_doc(source, "https://kb.test/archive/x", {"data": "heron", "permissions": PUBLIC})
    client.put_doc(source, "https://kb.test/0999", {"data": "heron", "permissions": PUBLIC})
    client.idle()
    html = b"<html><body><p>Release notes heron</p></body></html>"
    import base64

    batch = {
        "addOrUpdate": [
            {"documentId": "https://kb.test/1", "title": "One", "data": "heron one", "permissions": PUBLIC},
            {
                "documentId": "https://kb.test/2",
                "compressedBinaryData": base64.b64encode(zlib.compress(html)).decode(),
                "compressionType": "ZLIB",
                "fileExtension": ".html",
                "permissions": PUBLIC,
            },
            {"documentId": "https://kb.test/bad", "meta": {"nested": 1}},
        ],
        "delete": [
            {"documentId": "https://kb.test/0999", "deleteChildren": False},
            {"documentId": "https://kb.test/archive", "deleteChildren": True},
        ],
    }
    r = client.batch(source, batch)
    assert (r.status_code, r.json()) == (202, {})
    client.idle()
    uris = {h["uri"] for h in client.search("heron")["results"]}
    assert uris == {"https://kb.test/1", "https://kb.test/2"}
    with client.server.store.read() as db:
        row = db.execute("SELECT outcome, detail FROM activity WHERE document_id='https://kb.test/bad'").fetchone()
    assert row["outcome"] == "REJECTED" and "INVALID_JSON" in row["detail"]


def test_batch_file_is_single_use_and_must_exist(client: Client, source: str) -> None:
    file_id = client.upload(json.dumps({"addOrUpdate": []}).encode())
    url = f"{client.push}/sources/{source}/documents/batch"
    assert client.call("PUT", url, fileId=file_id).status_code == 202
    again = client.call("PUT", url, fileId=file_id)
    assert (again.status_code, again.json()["errorCode"]) == (412, "INVALID_PARAMETER")
    assert client.call("PUT", url).json()["errorCode"] == "MISSING_PARAMETER"
    assert client.call("PUT", url, fileId="nope").json()["errorCode"] == "INVALID_PARAMETER"
    bad = client.upload(b"{not json")
    r = client.call("PUT", url, fileId=bad)
    assert (r.status_code, r.json()["errorCode"]) == (400, "INVALID_JSON")


def test_binary_from_file_container_pdf(client: Client, source: str) -> None:
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    # Build a tiny one-page PDF whose content stream draws a known word.
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    from pypdf.generic import DecodedStreamObject, DictionaryObject

    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 20 100 Td (pelican manual) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    buf = io.BytesIO()
    writer.write(buf)
    file_id = client.upload(buf.getvalue())
    r = client.put_doc(
        source,
        "https://kb.test/manual.pdf",
        {"compressedBinaryDataFileId": file_id, "fileExtension": ".pdf", "permissions": PUBLIC},
        compressionType="UNCOMPRESSED",
    )
    assert r.status_code == 202, r.text
    client.idle()
    hits = client.search("pelican")["results"]
    assert [h["uri"] for h in hits] == ["https://kb.test/manual.pdf"]
    assert hits[0]["raw"]["filetype"] == "pdf"


def test_container_ttl_single_use_and_size_limit(tmp_path: object) -> None:
    import http.client
    import time
    from pathlib import Path
    from urllib.parse import urlsplit

    from crawler.localapi import LocalPushAPI

    srv = LocalPushAPI(Path(str(tmp_path)) / "d", container_ttl_s=0.3)
    srv.start()
    try:
        c = Client(srv, "dev")
        src = c.create_source("ttl")
        late = c.call("POST", f"{c.push}/files").json()
        # only `late` must expire: the others get a long life, so a slow machine cannot expire them mid-test
        srv.files.ttl = 600
        fresh = c.call("POST", f"{c.push}/files").json()
        # 300 MB announced: refused from the header alone, before any byte is stored.
        parts = urlsplit(fresh["uploadUri"])
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.putrequest("PUT", f"{parts.path}?{parts.query}")
        for name, value in fresh["requiredHeaders"].items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(300 * 1024 * 1024))
        conn.endheaders()
        conn.send(b"{}")
        assert conn.getresponse().status == 413
        conn.close()
        time.sleep(0.4)
        r = requests.put(late["uploadUri"], data=b"{}", headers=late["requiredHeaders"], timeout=10)
        assert r.status_code == 403 and b"expired" in r.content
        r = c.call("PUT", f"{c.push}/sources/{src}/documents/batch", fileId=late["fileId"])
        assert (r.status_code, r.json()["errorCode"]) == (412, "INVALID_PARAMETER")
        # consumed containers refuse further uploads
        used = c.upload(b'{"addOrUpdate": []}')
        assert c.call("PUT", f"{c.push}/sources/{src}/documents/batch", fileId=used).status_code == 202
        srv.files.sweep(grace=0)
        assert srv.files.state(used) == "missing"
    finally:
        srv.stop()


def test_large_batch_spans_several_transactions(client: Client, source: str) -> None:
    adds = [{"documentId": f"https://big.test/{i}", "data": "gannet", "permissions": PUBLIC} for i in range(1203)]
    deletes = [{"documentId": f"https://big.test/{i}", "deleteChildren": False} for i in range(0, 1203, 2)]
    assert client.batch(source, {"addOrUpdate": adds, "delete": deletes}).status_code == 202
    client.idle()
    assert client.search("gannet")["totalCount"] == 601
    assert client.server.store.pending() == 0
