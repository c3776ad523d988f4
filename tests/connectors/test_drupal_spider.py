"""The Drupal spider run for real against the JSON:API fixture server (in this process, on the test reactor)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from scrapy.http import Request, TextResponse

from connectors.drupal.client import DrupalOptions
from connectors.drupal.spider import DrupalConnector
from tests.fixtures.crawl import run_connector
from tests.fixtures.drupal_server import PASSWORD, USERNAME, DrupalServer, load

REF = "drupal"
PUBLISHED = {"/news/welcome", "/news/security-policy", "/news/summer-party", "/node/5", "/about", "/contact"}


@pytest.fixture
def server() -> Iterator[DrupalServer]:
    with DrupalServer() as srv:
        yield srv  # type: ignore[misc]


def options(server: DrupalServer, auth: bool = True, **extra: Any) -> dict[str, Any]:
    opts: dict[str, Any] = {"base_url": server.base_url, "page_size": 2}
    if auth:
        opts["auth"] = {"username": USERNAME, "password": PASSWORD}
    return opts | extra


def docs(items: list[dict[str, Any]], base: str) -> dict[str, dict[str, Any]]:
    return {i["document_id"].removeprefix(base): i for i in items if i["kind"] == "document"}


def test_full_run_excludes_unpublished_by_default(server: DrupalServer) -> None:
    summary = run_connector(REF, options(server), ping=False)
    items = summary.items
    found = docs(items, server.base_url)
    assert set(found) == PUBLISHED
    assert found["/news/welcome"]["metadata"]["tags"] == ["Search", "News"]
    assert found["/news/welcome"]["author"] == "Jane Editor"
    assert not [i for i in items if i["kind"] == "identity"]  # no unpublished nodes: no identities needed
    assert {i.removeprefix(server.base_url) for i in summary.listed_ids} == PUBLISHED
    assert summary.listing_errors == [] and summary.cursor == "2024-05-02T10:00:00+00:00"
    articles = server.hits("/jsonapi/node/article")
    assert {r.query.get("page[offset]", "0") for r in articles} == {"0", "2"}  # 4 published, 2 per page
    assert all(r.query["filter[status]"] == "1" and r.query["include"] == "uid,field_tags" for r in articles)
    assert all(r.query["include"] == "uid" for r in server.hits("/jsonapi/node/page"))


def test_unpublished_included_for_roles_with_identities(server: DrupalServer) -> None:
    result = run_connector(REF, options(server, include_unpublished=True), ping=False)
    items = result.items
    draft = docs(items, server.base_url)["/news/reorg-plan"]
    pset = draft["permissions"]["levels"][0]["sets"][0]
    assert not pset["allow_anonymous"]
    assert [a["identity"] for a in pset["allowed"]] == ["role:administrator", "role:content_editor"]
    groups = {i["name"]: i for i in items if i["kind"] == "identity"}
    assert [m["name"] for m in groups["role:content_editor"]["members"]] == ["jane"]
    assert groups["jane"]["email"] == "jane@example.test"  # sent as an e-mail alias (crawler.wire.identity)


def test_incremental_run_after_changes(server: DrupalServer) -> None:
    first = run_connector(REF, options(server), ping=False)
    server.mutate()
    server.requests.clear()
    second = run_connector(REF, options(server), mode="incremental", since=first.cursor, ping=False)
    items = second.items
    changed = docs(items, server.base_url)
    assert set(changed) == {"/news/welcome"}
    assert changed["/news/welcome"]["title"] == "Welcome to the new intranet, now with filters"
    assert {i.removeprefix(server.base_url) for i in second.listed_ids} == PUBLISHED - {"/news/summer-party"}
    assert second.cursor == "2024-06-01T12:00:00+00:00" and second.listing_errors == []
    content = [r for r in server.hits("/jsonapi/node/") if "include" in r.query]
    assert content and all(r.query["filter[changed][operator]"] == ">" for r in content)
    assert all(r.query["filter[changed][value]"] == "1714643999" for r in content)  # cursor - 1 s


def test_failed_listing_makes_the_run_incomplete(server: DrupalServer) -> None:
    server.fail("/jsonapi/node/page", 503, times=20)
    summary = run_connector(REF, options(server), ping=False)
    assert summary.listing_errors and "/jsonapi/node/page" in summary.listing_errors[0]


def test_callback_follows_links_next() -> None:
    spider = DrupalConnector(options=DrupalOptions.model_validate({"base_url": "http://drupal.example.test"}))
    body = {
        "data": load("node--article")[:2],
        "included": load("user--user"),
        "links": {"next": {"href": "http://drupal.example.test/jsonapi/node/article?page%5Boffset%5D=2"}},
    }
    request = Request("http://drupal.example.test/jsonapi/node/article")
    headers = {"Content-Type": "application/vnd.api+json"}  # what Drupal sends; the spider checks it
    response = TextResponse(request.url, body=json.dumps(body).encode(), headers=headers, request=request)
    out = list(spider.parse_nodes(response, bundle="article"))
    assert isinstance(out[0], Request) and "offset%5D=2" in out[0].url
    assert [d.author for d in out[1:]] == ["Jane Editor", "Site Admin"]
    assert spider.listed_ids == {
        "http://drupal.example.test/news/welcome",
        "http://drupal.example.test/news/security-policy",
    }


def test_rate_limited_listing_waits_and_completes(server: DrupalServer) -> None:
    # docs/connectors/drupal.md: the fixture answers 429 with Retry-After like a throttling proxy would
    server.fail("/jsonapi/node/article", 429, times=1, Retry_After="1")
    result = run_connector(REF, options(server), ping=False)
    assert result.listing_errors == []
    assert set(docs(result.items, server.base_url)) == PUBLISHED
    assert result.stats.get("pushcrawl/retry_after_waits") == 1
