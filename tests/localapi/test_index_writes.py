"""How the indexer writes tantivy (textindex.py): deletes are skipped for row ids above the highest the index
ever held, so that bound must survive a restart, or an update after one would leave two documents."""

from __future__ import annotations

from pathlib import Path

from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import KEY, Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def _doc(client: Client, source: str, doc_id: str, text: str) -> None:
    r = client.put_doc(source, doc_id, {"data": text, "permissions": PUBLIC})
    assert r.status_code == 202, r.text


def test_an_item_updated_after_a_restart_replaces_its_document(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalPushAPI(data, api_keys=[KEY], queue_delay_scale=0.01) as server:
        client = Client(server)
        source = client.create_source("docs", "SECURED")
        _doc(client, source, "https://x.test/a", "narwhal")
        _doc(client, source, "https://x.test/b", "narwhal")
        client.idle()
    with LocalPushAPI(data, api_keys=[KEY], queue_delay_scale=0.01) as server:
        client = Client(server)
        _doc(client, source, "https://x.test/b", "narwhal dolphin")  # an update: its row id is already indexed
        _doc(client, source, "https://x.test/c", "narwhal")  # a new row id, above every indexed one
        client.idle()
        assert client.search("narwhal")["totalCount"] == 3
        assert [h["uri"] for h in client.search("dolphin")["results"]] == ["https://x.test/b"]


def test_a_reused_row_id_replaces_the_deleted_items_document(client: Client, source: str) -> None:
    """SQLite gives a new row the highest row id + 1, so deleting the last item and adding another reuses
    its id: the delete and the re-add must both reach the index."""
    _doc(client, source, "https://x.test/a", "narwhal")
    _doc(client, source, "https://x.test/b", "narwhal walrus")
    client.idle()
    client.call("DELETE", f"{client.push}/sources/{source}/documents", documentId="https://x.test/b")
    client.idle()
    _doc(client, source, "https://x.test/c", "narwhal")
    client.idle()
    assert client.search("walrus")["totalCount"] == 0
    assert sorted(h["uri"] for h in client.search("narwhal")["results"]) == ["https://x.test/a", "https://x.test/c"]
