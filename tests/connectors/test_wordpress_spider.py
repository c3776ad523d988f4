"""The WordPress spider run for real against the fixture server (in this process, on the test reactor)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from scrapy.http import Request, TextResponse

from connectors.wordpress.client import WordPressOptions
from connectors.wordpress.spider import WordPressConnector
from tests.fixtures.crawl import run_connector
from tests.fixtures.wordpress_server import PASSWORD, USERNAME, WordPressServer

REF = "wordpress"
PUBLIC = {
    "/2024/04/01/hello-search/",
    "/2024/04/10/quarterly-report/",
    "/2023/11/05/old-announcement/",
    "/about/",
    "/contact/",
    "/books/the-search-book/",
    "/q1-report-pdf/",  # attached to a public post
    "/brochure/",  # unattached media
}


@pytest.fixture
def server() -> Iterator[WordPressServer]:
    with WordPressServer() as srv:
        yield srv  # type: ignore[misc]


def options(server: WordPressServer, auth: bool = True, **extra: Any) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "base_url": server.base_url,
        "post_types": ["posts", "pages", "books"],
        "page_size": 2,
    }
    if auth:
        opts["auth"] = {"username": USERNAME, "password": PASSWORD}
    return opts | extra


def docs(items: list[dict[str, Any]], base: str) -> dict[str, dict[str, Any]]:
    return {i["document_id"].removeprefix(base): i for i in items if i["kind"] == "document"}


def test_full_run_with_credentials(server: WordPressServer) -> None:
    summary = run_connector(REF, options(server), ping=False)
    items = summary.items
    found = docs(items, server.base_url)
    assert set(found) == PUBLIC | {"/2024/04/12/team-offsite/"}  # no draft, no protected, no private media
    private = found["/2024/04/12/team-offsite/"]["permissions"]["levels"][0]["sets"][0]
    assert not private["allow_anonymous"] and private["allowed"][0]["identity"] == "bob"
    pdf = found["/q1-report-pdf/"]
    assert pdf["binary_head"].startswith("%PDF") and pdf["file_extension"] == ".pdf"
    assert pdf["parent_id"] == server.base_url + "/2024/04/10/quarterly-report/"
    identities = {i["name"] for i in items if i["kind"] == "identity"}
    assert identities == {"admin", "jane", "bob", "role:administrator", "role:editor"}
    assert {i.removeprefix(server.base_url) for i in summary.listed_ids} == set(found)
    assert summary.listing_errors == [] and summary.cursor == "2024-05-02T10:00:00"
    posts = server.hits("/wp-json/wp/v2/posts")
    assert {r.query["page"] for r in posts} == {"1", "2", "3"}  # 5 visible posts, 2 per page
    assert all(r.query["_embed"] == "author,wp:term" for r in posts)
    assert not server.hits("/wp-json/wp/v2/users/")  # no per-author look-ups
    assert not server.hits("/wp-json/wp/v2/categories")


def test_anonymous_run_sees_public_items_only(server: WordPressServer) -> None:
    summary = run_connector(REF, options(server, auth=False), ping=False)
    items = summary.items
    assert set(docs(items, server.base_url)) == PUBLIC
    assert not [i for i in items if i["kind"] == "identity"] and not server.hits("/wp-json/wp/v2/users")
    assert summary.listing_errors == []


def test_drafts_are_opt_in_and_restricted(server: WordPressServer) -> None:
    result = run_connector(REF, options(server, include_drafts=True), ping=False)
    items = result.items
    draft = docs(items, server.base_url)["/?p=105"]
    pset = draft["permissions"]["levels"][0]["sets"][0]
    assert draft["metadata"]["status"] == "draft" and not pset["allow_anonymous"]


def test_protected_full_opt_in_reads_the_body(server: WordPressServer) -> None:
    result = run_connector(REF, options(server, protected_content="full"), ping=False)
    items = result.items
    doc = docs(items, server.base_url)["/2024/04/15/members-only/"]
    assert "4711" in doc["html"] and doc["metadata"]["password_protected"] is True


def test_protected_full_needs_auth() -> None:
    with pytest.raises(ValueError, match="protected_content: full needs auth"):
        WordPressOptions.model_validate({"base_url": "http://wp.example.test", "protected_content": "full"})


def test_incremental_run_after_changes(server: WordPressServer) -> None:
    first = run_connector(REF, options(server), ping=False)
    server.mutate()
    server.requests.clear()
    second = run_connector(REF, options(server), mode="incremental", since=first.cursor, ping=False)
    items = second.items
    changed = docs(items, server.base_url)
    assert set(changed) == {"/2024/04/01/hello-search/"}
    assert changed["/2024/04/01/hello-search/"]["title"] == "Hello, Search \u2013 now with filters"
    assert second.cursor == "2024-06-01T12:00:00"
    listed = {i.removeprefix(server.base_url) for i in second.listed_ids}
    assert listed == (PUBLIC - {"/2023/11/05/old-announcement/"}) | {
        "/2024/04/12/team-offsite/",
        "/2024/04/15/members-only/",  # listed but never indexed: harmless for the diff
    }
    assert second.listing_errors == []
    content = [r for r in server.hits("/wp-json/wp/v2/posts") if "_embed" in r.query]
    assert content and all(r.query["modified_after"] == "2024-05-02T09:59:59" for r in content)


def test_failed_listing_page_makes_the_run_incomplete(server: WordPressServer) -> None:
    server.fail("/wp-json/wp/v2/pages", 500, times=20)
    summary = run_connector(REF, options(server), ping=False)
    items = summary.items
    assert summary.listing_errors and "/pages" in summary.listing_errors[0]
    assert "/about/" not in docs(items, server.base_url)


def test_retry_after_is_honoured(server: WordPressServer) -> None:
    server.fail("/wp-json/wp/v2/books", 429, times=1, Retry_After="2")
    started = time.monotonic()
    summary = run_connector(REF, options(server), ping=False)
    items = summary.items
    assert time.monotonic() - started >= 2
    assert summary.stats["pushcrawl/retry_after_waits"] == 1
    assert summary.listing_errors == [] and "/books/the-search-book/" in docs(items, server.base_url)


def test_callback_pages_from_total_pages_header() -> None:
    spider = WordPressConnector(options=WordPressOptions.model_validate({"base_url": "http://wp.example.test"}))
    server = WordPressServer()
    body = json.dumps([server.embed(p) for p in server.data["posts"][:2]]).encode()
    request = Request("http://wp.example.test/wp-json/wp/v2/posts?page=1")
    headers = {"X-WP-TotalPages": "3", "Content-Type": "application/json; charset=UTF-8"}  # the spider checks it
    response = TextResponse(request.url, body=body, headers=headers, request=request)
    out = list(spider.parse_listing(response, "posts", {"per_page": 2}, "content", 1))
    pages = [r.cb_kwargs["page"] for r in out if isinstance(r, Request)]
    assert pages == [2, 3]
    assert next(d.title for d in out if not isinstance(d, Request)) == "Hello, Search \u2013 a first look"
    assert len(spider.listed_ids) == 2 and 102 in spider.public_parents
