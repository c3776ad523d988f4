"""What the real Wagtail 8 bed (tests/realcms/wagtail) showed, kept in the fast fixture and tested on it.

- the API negotiates content like Django REST framework: HTML for Scrapy's default Accept, JSON when asked;
- ``limit`` above ``WAGTAILAPI_LIMIT_MAX`` (20) is a 400 with Wagtail's wording; ping now asks for a full page,
  so a too-large ``page_size`` is a clear error before the crawl, with the site's own reason;
- a site behind HTTP basic auth answers 401 until the connector sends ``auth``;
- a document whose ``file_hash`` is blank is served with ``ETag: ""`` and a 304 to ``If-None-Match: ""``,
  even after its file was replaced: such an ETag must not be kept as a validator.
"""

from __future__ import annotations

import pytest
import requests

from connectors.wagtail import client, files
from crawler.errors import ConnectorError
from tests.fixtures.crawl import run_connector
from tests.fixtures.wagtail_server import WagtailServer, text_pdf

SCRAPY_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PDF = "/documents/1/library-rules.pdf"


def test_fixture_negotiates_like_drf() -> None:
    with WagtailServer() as srv:
        url = f"{srv.base_url}/api/v2/pages/"
        html = requests.get(url, headers={"Accept": SCRAPY_ACCEPT}, timeout=10)
        as_json = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
        anything = requests.get(url, timeout=10)  # requests sends */*
        forced = requests.get(url, params={"format": "json"}, headers={"Accept": SCRAPY_ACCEPT}, timeout=10)
        refused = requests.get(url, headers={"Accept": "image/png"}, timeout=10)
        bad_limit_html = requests.get(url, params={"limit": 21}, headers={"Accept": SCRAPY_ACCEPT}, timeout=10)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert "Django REST framework" in html.text
    for resp in (as_json, anything, forced):
        assert resp.headers["Content-Type"].startswith("application/json") and "items" in resp.json()
    assert refused.status_code == 406
    assert bad_limit_html.status_code == 400 and bad_limit_html.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": 21}, "limit cannot be higher than 20"),
        ({"limit": -1}, "limit must be a positive integer"),
        ({"offset": "x"}, "offset must be a positive integer"),
    ],
)
def test_fixture_pages_like_wagtail(query: dict[str, object], message: str) -> None:
    with WagtailServer() as srv:
        resp = requests.get(f"{srv.base_url}/api/v2/pages/", params=query, timeout=10)  # type: ignore[arg-type]
    assert resp.status_code == 400 and resp.json() == {"message": message}


def test_ping_names_the_limit_wagtail_refuses() -> None:
    with WagtailServer() as srv, pytest.raises(ConnectorError, match=r"HTTP 400 \(limit cannot be higher than 20\)"):
        client.ping(client.WagtailOptions(base_url=srv.base_url, page_size=50))


def test_ping_asks_for_auth_behind_basic_auth() -> None:
    with WagtailServer(auth=("editor", "s3cret")) as srv:
        with pytest.raises(ConnectorError, match=r"refused access \(HTTP 401\); set auth"):
            client.ping(client.WagtailOptions(base_url=srv.base_url))
        options = {"username": "editor", "password": "wrong"}
        with pytest.raises(ConnectorError, match=r"check auth\.username and auth\.password"):
            client.ping(client.WagtailOptions.model_validate({"base_url": srv.base_url, "auth": options}))


@pytest.mark.integration
def test_crawl_behind_basic_auth() -> None:
    with WagtailServer(auth=("editor", "s3cret")) as srv:
        options = {"base_url": srv.base_url, "auth": {"username": "editor", "password": "s3cret"}}
        result = run_connector("wagtail", options)
    assert result.listing_errors == [] and result.stats.get("pushcrawl/errors") is None
    assert len(result.documents()) == 8  # what the fixture serves without auth (test_wagtail.py)


@pytest.mark.integration
def test_an_empty_etag_is_no_validator() -> None:
    with WagtailServer(blank_hash=True) as srv:
        options = {"base_url": srv.base_url, "images": False}
        first = run_connector("wagtail", options)
        pdf = srv.base_url + PDF
        assert files.load_cursor(first.cursor)[1][pdf].get("etag") is None  # Last-Modified only
        srv.replace_file(PDF, text_pdf("Library rules: no quokkabrine in the reading room"))
        srv.downloads.clear()
        second = run_connector("wagtail", options, mode="incremental", since=first.cursor, known_ids=[pdf])
        asked = [r.headers for r in srv.requests if r.path == PDF][-1]
    assert "if-none-match" not in asked  # an If-None-Match: "" would have been answered 304
    assert dict(srv.downloads) == {PDF: 1}  # the replaced file was downloaded again
    assert second.documents()[pdf]["binary_size"] == len(srv.files[PDF][1])
