"""An item's fields, collected metadata and permissions are stored as JSON text written by msgspec
(crawler/localapi/fastjson.py), faster than json.dumps. Where the two would differ: a non-finite float,
which json.dumps wrote as ``NaN`` (then refused by SQLite's JSON functions: applying the item failed with an
internal error) and msgspec as ``null``: pushed JSON with one is now refused with a clear error, as Coveo's
parser refuses it; text beyond ASCII, which msgspec writes as itself, must come back as pushed."""

from __future__ import annotations

import json

from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def test_a_non_finite_number_is_refused_as_invalid_json(client: Client, source: str) -> None:
    r = client.put_doc(source, "https://x.test/a", {"data": "narwhal", "score": float("nan"), "permissions": PUBLIC})
    assert r.status_code == 400
    assert r.json()["errorCode"] == "INVALID_JSON" and "NaN is not a JSON number" in r.json()["message"]
    good = {"documentId": "https://x.test/b", "data": "narwhal", "permissions": PUBLIC}
    bad = {"documentId": "https://x.test/c", "data": "narwhal", "ratio": float("-inf"), "permissions": PUBLIC}
    r = client.batch(source, {"addOrUpdate": [good, bad]})
    assert r.status_code == 400  # the file is checked whole when the batch is sent: none of it is applied
    assert r.json()["errorCode"] == "INVALID_JSON" and "-Infinity is not a JSON number" in r.json()["message"]
    client.idle()
    assert client.search("narwhal")["totalCount"] == 0


def test_text_beyond_ascii_is_stored_as_pushed(server: LocalPushAPI, client: Client, source: str) -> None:
    levels = [{"name": "Équipe", "permissionSets": [{"allowAnonymous": True, "allowedPermissions": []}]}]
    body = {"data": "narwhal", "title": "Été à Montréal", "motto": "naïve café", "permissions": levels}
    assert client.put_doc(source, "https://x.test/b", body).status_code == 202
    client.idle()
    with server.store.read() as db:
        row = db.execute(
            "SELECT i.fields, i.collected, p.body FROM items i JOIN perms p ON p.pid = i.perm_id"
        ).fetchone()
    fields, collected, perms = (json.loads(text) for text in row)
    assert (fields["title"], collected["motto"], perms[0]["name"]) == ("Été à Montréal", "naïve café", "Équipe")
    assert [r["title"] for r in client.search("montreal")["results"]] == ["Été à Montréal"]
    assert client.search("narwhal", aq='@title=="été à montréal"')["totalCount"] == 1
