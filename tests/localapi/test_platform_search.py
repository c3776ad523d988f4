"""Platform API subset (sources, providers, fields) and the Search API (q, aq, paging)."""

from __future__ import annotations

from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def test_sources_create_list_get(client: Client) -> None:
    source_id = client.create_source("intranet_cms-1", "SHARED")
    assert source_id.startswith("pushcrawl-local-")
    listed = client.call("GET", f"{client.platform}/sources").json()
    assert [(s["id"], s["name"], s["sourceType"], s["sourceVisibility"]) for s in listed] == [
        (source_id, "intranet_cms-1", "PUSH", "SHARED")
    ]
    one = client.call("GET", f"{client.platform}/sources/{source_id}").json()
    assert one["itemCount"] == 0
    assert client.call("GET", f"{client.platform}/sources/nope").status_code == 404


def test_source_name_rules(client: Client) -> None:
    client.create_source("dup")
    bad = client.call("POST", f"{client.platform}/sources", {"sourceType": "PUSH", "name": "has space"})
    assert bad.status_code == 400 and "letters" in bad.json()["message"]
    dup = client.call("POST", f"{client.platform}/sources", {"sourceType": "PUSH", "name": "DUP"})
    assert dup.status_code == 409 and "already exists" in dup.json()["message"]


def test_fields_exist_and_can_be_added(client: Client, source: str) -> None:
    names = {f["name"] for f in client.call("GET", f"{client.platform}/indexes/fields").json()["items"]}
    assert {"title", "author", "date", "clickableuri", "permanentid", "language", "filetype", "uri"} <= names
    r = client.call(
        "POST", f"{client.platform}/indexes/fields/batch/create", [{"name": "kb_category", "type": "STRING"}]
    )
    assert r.status_code == 201
    assert client.call("POST", f"{client.platform}/indexes/fields", {"name": "Bad-Name"}).status_code == 400
    assert client.call("GET", f"{client.platform}/indexes/fields/kb_category").json()["type"] == "STRING"
    searched = client.call("POST", f"{client.platform}/indexes/fields/search", {"page": 0}).json()
    assert "kb_category" in {f["name"] for f in searched["items"]}
    assert client.call("POST", f"{client.platform}/indexes/fields", {"name": "kb_category"}).status_code == 409
    assert client.call("DELETE", f"{client.platform}/indexes/fields/title").status_code == 400
    assert client.call("POST", f"{client.platform}/indexes/fields", {"name": "tmp_x"}).status_code == 201
    assert client.call("DELETE", f"{client.platform}/indexes/fields/tmp_x").status_code == 204
    client.put_doc(
        source,
        "https://x.test/m",
        {"data": "lynx", "KB_Category": "Accounts", "kb_other": 1, "permissions": PUBLIC},
    )
    client.idle()
    raw = client.search("lynx")["results"][0]["raw"]
    assert raw["kb_category"] == "Accounts" and "kb_other" not in raw


def test_search_aq_and_paging(client: Client, source: str) -> None:
    client.call("POST", f"{client.platform}/indexes/fields", {"name": "kb_tags", "type": "STRING"})
    for i in range(5):
        client.put_doc(
            source,
            f"https://x.test/p{i}",
            {
                "title": f"Page {i}",
                "data": "common words",
                "author": "Ann" if i % 2 else "Bob",
                "kb_tags": ["red", f"t{i}"],
                "permissions": PUBLIC,
            },
        )
    client.idle()
    assert client.search("common")["totalCount"] == 5
    assert client.search("common", aq="@author==ann")["totalCount"] == 2
    assert client.search("", aq='@author="Bob"')["totalCount"] == 3
    assert client.search("", aq="@kb_tags==t3")["totalCount"] == 1
    assert client.search("", aq="@kb_tags==(t1,t2)")["totalCount"] == 2
    page = client.search("common", numberOfResults=2, firstResult=4)
    assert page["totalCount"] == 5 and len(page["results"]) == 1
    assert "common" in page["results"][0]["excerpt"]


def test_auth_and_org_errors(client: Client, source: str) -> None:
    url = f"{client.push}/sources/{source}/documents"
    r = client.session.put(url, params={"documentId": "https://x.test/a"}, json={"data": "x"}, timeout=10)
    assert (r.status_code, r.json()["errorCode"]) == (401, "UNAUTHORIZED")
    r = client.call("PUT", url, {"data": "x"}, key="wrong", documentId="https://x.test/a")
    assert (r.status_code, r.json()["errorCode"]) == (401, "INVALID_TOKEN")
    r = client.call(
        "PUT",
        f"{client.base}/push/v1/organizations/other/sources/{source}/documents",
        {"data": "x"},
        documentId="https://x.test/a",
    )
    assert (r.status_code, r.json()["errorCode"]) == (404, "ORGANIZATION_NOT_FOUND")
    r = client.call("PUT", f"{client.push}/sources/nope/documents", {"data": "x"}, documentId="https://x.test/a")
    assert (r.status_code, r.json()["errorCode"]) == (412, "SOURCE_DOES_NOT_EXIST")
    assert client.call("POST", f"{client.platform}/sources", {"name": "z"}, key="pusher").status_code == 403


def test_source_visibility_in_search(client: Client) -> None:
    secret = [
        {
            "allowAnonymous": False,
            "allowedPermissions": [{"identity": "ann", "identityType": "User"}],
            "deniedPermissions": [],
        }
    ]
    for visibility in ("SHARED", "SECURED", "PRIVATE"):
        src = client.create_source(f"v_{visibility.lower()}", visibility)
        client.put_doc(src, f"https://{visibility.lower()}.test/a", {"data": "ibis", "permissions": secret})
    client.idle()
    assert {h["uri"] for h in client.search("ibis")["results"]} == {"https://shared.test/a"}
    as_ann = client.search("ibis", key=client.token("ann"))
    assert {h["uri"] for h in as_ann["results"]} == {"https://shared.test/a", "https://secured.test/a"}


def test_local_json_routes(client: Client, source: str) -> None:

    client.put_doc(source, "https://x.test/j", {"data": "jackal", "kb_zone": "b", "permissions": PUBLIC})
    client.put_doc(source, "https://x.test/j", {"data": "older"}, orderingId=1)
    client.idle()
    item = client.call("GET", "/local/item", source=source, documentId="https://x.test/j").json()
    assert item["text"] == "jackal" and item["collectedMetadata"] == {"kb_zone": "b"}
    assert item["permissions"][0]["permissionSets"][0]["allowAnonymous"] is True
    log = client.call("GET", "/local/activity", documentId="https://x.test/j").json()
    assert [e["outcome"] for e in log] == ["OUT_OF_SEQUENCE_OPERATION", "ADDED"]
    meta = client.call("GET", f"{client.platform}/sources/{source}/metadata").json()
    assert meta == {"collectedNotIndexed": [{"name": "kb_zone", "itemCount": 1}]}
    assert client.call("GET", "/local/item", source=source, documentId="x").status_code == 404
