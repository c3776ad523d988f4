"""Item field values in the search index (fieldterms.py): exact ``aq`` filters, the Content Browser's facet
counts and its "collected, not indexed" counts come from the index and agree with the SQL they replace."""

from __future__ import annotations

import time
from typing import Any

import tantivy

from crawler.localapi import LocalPushAPI
from crawler.localapi.browse import facets
from crawler.localapi.fieldterms import MAX_VALUE
from crawler.localapi.query import parse_aq
from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]
AUTHORS = ("Ann", "ann", "Élise", "Bob", None)


def _items() -> list[dict[str, Any]]:
    out = []
    for i in range(40):
        doc: dict[str, Any] = {
            "documentId": f"https://f.test/{i}",
            "title": f"Item {i}",
            "data": "plain text",
            "permissions": PUBLIC,
            "filetype": ("PDF", "pdf", "html", "txt")[i % 4],
            "kb_tags": [["a", "B"], ["c"], []][i % 3],
            "kb_rank": i % 5,
            "kb_flag": i % 2 == 0,
            "kb_note": "x" * (MAX_VALUE + 1) if i % 10 == 0 else f"note {i % 3}",
        }
        if AUTHORS[i % 5] is not None:
            doc["author"] = AUTHORS[i % 5]
        if i % 4 == 0:
            doc["ticket"] = f"T-{i}"  # no field of that name: collected, not indexed
        out.append(doc)
    return out


def _load(client: Client, source: str) -> None:
    for name, kind in (("kb_tags", "STRING"), ("kb_rank", "LONG"), ("kb_flag", "STRING"), ("kb_note", "STRING")):
        spec = {"name": name, "type": kind, "facet": name == "kb_tags"}
        assert client.call("POST", f"{client.platform}/indexes/fields", spec).ok
    assert client.batch(source, {"addOrUpdate": _items()}).status_code == 202
    client.idle()


def _sql_count(server: LocalPushAPI, aq: str) -> int:
    where, params, _ = parse_aq(aq)
    with server.store.read() as db:
        return int(db.execute("SELECT COUNT(*) FROM items i WHERE " + " AND ".join(where), params).fetchone()[0])


def test_exact_aq_filters_from_the_index_agree_with_sql(server: LocalPushAPI, client: Client, source: str) -> None:
    _load(client, source)
    cases = [
        "@filetype==pdf",
        "@filetype==PDF",
        "@filetype==(html,txt)",
        "@filetype<>pdf",
        "@kb_tags==b",
        "@kb_tags==(a,c)",
        "@kb_tags<>a",
        "@kb_tags",
        "@author",
        "@author==ann",
        "@kb_rank==3",
        "@kb_flag==1",
        '@kb_note=="note 1"',
        f"@kb_note=={'x' * (MAX_VALUE + 1)}",  # too long for a term: answered in SQL
        "@filetype==pdf @kb_rank==0",
        "@nosuchfield==x",
        "@filetype==pdf @kb_rank>2",  # an index term and an SQL comparison together
    ]
    for aq in cases:
        expected = _sql_count(server, aq)
        assert client.search("", aq=aq, numberOfResults=0)["totalCount"] == expected, aq
    assert _sql_count(server, "@kb_tags==b") == 14 and _sql_count(server, "@filetype==pdf") == 20


def test_index_compares_case_insensitively_beyond_ascii(server: LocalPushAPI, client: Client, source: str) -> None:
    """SQLite's lower() folds ASCII only, so the SQL translation misses "Élise" for "élise": the index, which
    holds values lower-cased by Python, answers exact filters (Coveo compares strings case-insensitively)."""
    _load(client, source)
    assert _sql_count(server, "@author==élise") == 0
    assert client.search("", aq="@author==élise")["totalCount"] == 8
    assert client.search("", aq="@author==ÉLISE")["totalCount"] == 8


def test_facets_and_collected_counts_from_the_index_match_a_scan(
    server: LocalPushAPI, client: Client, source: str
) -> None:
    _load(client, source)
    index = server.store.index
    whole = tantivy.Query.term_query(index.schema, "src", source)
    pdf = tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Must, whole),
            (tantivy.Occur.Must, tantivy.Query.term_query(index.schema, "fl.filetype", "pdf")),
        ]
    )
    with server.store.read() as db:
        names = facets.facet_fields(db)
        assert "kb_tags" in names
        for query, where in ((whole, ""), (pdf, facets.filter_sql([("filetype", "pdf")])[0][0])):
            tail = " FROM items i WHERE i.source_id = ?" + (f" AND {where}" if where else "")
            args = [source] + (["pdf"] if where else [])
            total, scanned = facets.compute(db, names, tail, args)
            assert index.count(query) == total
            assert index.facets(query, names, facets.TOP_VALUES) == scanned
        assert index.collected(whole) == facets.collected(db, source) == [("ticket", 10)]
    # the counts follow a deletion once it is indexed
    r = client.call("DELETE", f"{client.push}/sources/{source}/documents", documentId="https://f.test/1")
    assert r.status_code == 202, r.text
    client.idle()
    assert index.count(pdf) == 9 + 10  # "pdf" and "PDF" items: the filter is case-insensitive
    assert index.facets(whole, ["filetype"], 10) == {
        "filetype": {"values": [("PDF", 10), ("html", 10), ("txt", 10), ("pdf", 9)], "distinct": 4}
    }


def test_a_field_declared_a_facet_later_gets_counts_once_reindexed(
    server: LocalPushAPI, client: Client, source: str
) -> None:
    """Facet values are indexed for facet fields only: declaring one re-indexes the items already there."""
    _load(client, source)
    index = server.store.index
    whole = tantivy.Query.term_query(index.schema, "src", source)
    assert "kb_note" not in index.facets(whole, ["kb_note"], 10)
    assert client.call("DELETE", f"{client.platform}/indexes/fields/kb_note").ok
    spec = {"name": "kb_note", "type": "STRING", "facet": True}
    assert client.call("POST", f"{client.platform}/indexes/fields", spec).ok
    deadline = time.monotonic() + 60  # the indexer's next round notices the change and re-indexes every item
    while "kb_note" not in index.facets(whole, ["kb_note"], 10) and time.monotonic() < deadline:
        time.sleep(0.2)
    client.idle()
    notes = dict(index.facets(whole, ["kb_note"], 10)["kb_note"]["values"])
    assert notes == {"note 0": 12, "note 1": 12, "note 2": 12}  # items 0, 10, 20, 30 hold a value too long
