"""Local search behaves like Coveo's: stemming per item language, strict ``aq``, excerpts with highlights,
and an index that follows updates, deletions and restarts (tantivy fed from the SQLite store)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import KEY, Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def _doc(client: Client, source: str, doc_id: str, text: str, **meta: object) -> None:
    r = client.put_doc(source, doc_id, {"data": text, "permissions": PUBLIC, **meta})
    assert r.status_code == 202, r.text


def test_english_stemming_finds_singular_and_plural(client: Client, source: str) -> None:
    _doc(client, source, "https://x.test/shoes", "Our running shoes are light.", title="Shoes")
    _doc(client, source, "https://x.test/other", "A page about hats.", title="Hats")
    client.idle()
    for q in ("shoe", "shoes", "SHOES", "run"):
        hits = client.search(q)
        assert [h["uri"] for h in hits["results"]] == ["https://x.test/shoes"], q


def test_french_items_are_stemmed_in_french(client: Client, source: str) -> None:
    _doc(client, source, "https://x.test/fr", "Les chevaux élégants de la maison.", language="fr-CA")
    # the same French words in an item declared English are stemmed as English (chevaux stays chevaux)
    _doc(client, source, "https://x.test/en", "Quoted: les chevaux élégants.", language="English")
    client.idle()
    # French Snowball: chevaux/cheval -> cheval, while English leaves both words as they are
    assert [h["uri"] for h in client.search("cheval")["results"]] == ["https://x.test/fr"]
    assert client.search("elegante")["totalCount"] == 2  # both stemmers reach "eleg"; accents folded
    assert client.search("chevaux")["totalCount"] == 2


def test_phrase_and_all_words_required(client: Client, source: str) -> None:
    _doc(client, source, "https://x.test/a", "red apples and green pears")
    _doc(client, source, "https://x.test/b", "green apples and red pears")
    client.idle()
    assert client.search("red apples")["totalCount"] == 2
    assert [h["uri"] for h in client.search('"red apples"')["results"]] == ["https://x.test/a"]
    assert client.search("red bananas")["totalCount"] == 0


def test_excerpt_highlights_point_at_the_matched_words(client: Client, source: str) -> None:
    filler = "lorem ipsum " * 40
    _doc(client, source, "https://x.test/long", f"{filler}the walrus sleeps; walruses swim. {filler}", title="Walrus")
    client.idle()
    hit = client.search("walrus")["results"][0]
    text, marks = hit["excerpt"], hit["excerptHighlights"]
    assert len(text) <= 210 and text.startswith("… ")
    assert [text[m["offset"] : m["offset"] + m["length"]] for m in marks] == ["walrus", "walruses"]
    assert hit["titleHighlights"] == [{"offset": 0, "length": 6}]


def test_aq_field_expressions_and_ranges(client: Client, source: str) -> None:
    client.call("POST", f"{client.platform}/indexes/fields", {"name": "kb_rank", "type": "LONG"})
    for i, (ext, rank) in enumerate((("pdf", 10), ("html", 20), ("pdf", 30))):
        _doc(client, source, f"https://x.test/f{i}", f"report {rank}", filetype=ext, kb_rank=rank)
    client.idle()
    assert client.search("", aq="@filetype==pdf")["totalCount"] == 2
    assert client.search("report", aq="@filetype==html")["totalCount"] == 1
    assert client.search("", aq="@filetype<>pdf AND @filetype")["totalCount"] == 1
    assert client.search("", aq="@kb_rank>10")["totalCount"] == 2
    assert client.search("", aq="@kb_rank<=10")["totalCount"] == 1
    assert client.search("", aq="@kb_rank==15..30")["totalCount"] == 2
    assert client.search("", aq="@date>=2000/01/01")["totalCount"] == 3


def test_unsupported_aq_is_a_400_naming_the_syntax(client: Client, source: str) -> None:
    for aq in ("@filetype==pdf OR @filetype==html", "NOT @a", "(@a==b)", "$qf(x)", "@title*=foo*", "-word"):
        r = client.call("POST", "/rest/search/v2", {"q": "", "aq": aq})
        assert r.status_code == 400, (aq, r.text)
        body = r.json()
        assert body["errorCode"] == "INVALID_QUERY_SYNTAX" and "not supported" in body["message"], body


def test_index_follows_updates_deletes_and_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with LocalPushAPI(data, api_keys=[KEY], queue_delay_scale=0.01) as server:
        client = Client(server)
        source = client.create_source("docs", "SECURED")
        _doc(client, source, "https://x.test/a", "narwhal")
        _doc(client, source, "https://x.test/b", "narwhal")
        client.idle()
        _doc(client, source, "https://x.test/a", "dolphin")
        client.call("DELETE", f"{client.push}/sources/{source}/documents", documentId="https://x.test/b")
        client.idle()
        assert client.search("narwhal")["totalCount"] == 0
        assert client.search("dolphin")["totalCount"] == 1
    # the index is derived: wipe it, and the next start rebuilds it from the store
    for path in (data / "localapi.search").iterdir():
        path.unlink()
    with LocalPushAPI(data, api_keys=[KEY]) as server:
        client = Client(server)
        client.idle()
        assert [h["uri"] for h in client.search("dolphin")["results"]] == ["https://x.test/a"]


def test_a_data_dir_from_the_fts5_version_is_migrated(tmp_path: Path) -> None:
    """Texts move from the old FTS5 table to ``texts`` (keeping each item's language); nothing is lost."""
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "localapi.sqlite3")
    db.executescript(
        """
        CREATE TABLE sources(id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL UNIQUE,
            visibility TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'IDLE', created_ms INTEGER NOT NULL,
            threshold INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE items(rid INTEGER PRIMARY KEY, source_id TEXT NOT NULL, document_id TEXT NOT NULL,
            ordering_id INTEGER NOT NULL, parent_id TEXT, fields TEXT NOT NULL, collected TEXT NOT NULL,
            permissions TEXT, public INTEGER NOT NULL, updated_ms INTEGER NOT NULL, UNIQUE(source_id, document_id));
        CREATE VIRTUAL TABLE items_fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2');
        CREATE TABLE activity(id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, target TEXT NOT NULL,
            document_id TEXT, operation TEXT NOT NULL, ordering_id INTEGER, outcome TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '');
        INSERT INTO sources VALUES ('pushcrawl-local-s1', 'old', 'old', 'SHARED', 'IDLE', 1, 0);
        INSERT INTO items VALUES (1, 'pushcrawl-local-s1', 'https://x.test/fr', 5, NULL,
            '{"title": "Écurie", "uri": "https://x.test/fr", "language": "fr"}', '{}', NULL, 1, 1);
        INSERT INTO items_fts(rowid, title, body) VALUES (1, 'Écurie', 'Les chevaux dorment.');
        """
    )
    db.close()
    with LocalPushAPI(data, api_keys=[KEY]) as server:
        client = Client(server)
        client.idle()
        hits = client.search("cheval")["results"]  # French stemming: the language came from the item's fields
        assert [h["uri"] for h in hits] == ["https://x.test/fr"]
        assert hits[0]["excerpt"] == "Les chevaux dorment."
        item = client.session.get(
            f"{client.base}/local/item",
            params={"source": "pushcrawl-local-s1", "documentId": "https://x.test/fr"},
            headers={"Authorization": f"Bearer {KEY}"},  # with keys configured, /local/item needs one
        )
        assert item.status_code == 200 and "Les chevaux dorment." in item.text
