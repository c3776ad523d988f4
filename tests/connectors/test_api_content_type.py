"""Every API connector asks for JSON and refuses an answer that is not JSON, naming the URL and its Content-Type.

Found on a real Wagtail 8 site (tests/realcms/wagtail): Django REST framework answers Scrapy's default
``Accept: text/html,…`` with its browsable HTML page, the connector parsed it as JSON and failed with
"Expecting value: line 5 column 1" while ``ping`` (requests, ``Accept: */*``) passed. The same class of bug
hides in any connector that parses an API answer without looking at it: a login wall or a proxy's error page
is HTML with a 200. ``LoginWall`` is that page, in front of each connector in turn.
"""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.http import HtmlResponse, TextResponse

from connectors.http import JSON_HEADERS, NotJSON, is_json_type, json_body
from connectors.registry import load
from crawler.errors import ConnectorError
from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.crawl import run_connector
from tests.fixtures.negotiation import negotiate

SCRAPY_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class LoginWall(FixtureServer):
    """A single-sign-on page in front of the whole site: 200, HTML, whatever was asked."""

    def handle(self, request: Request) -> Reply:
        return Reply(200, "<!DOCTYPE html>\n<html><body><form>Sign in</form></body></html>", "text/html; charset=utf-8")


def _options(connector: str, base_url: str) -> dict[str, Any]:
    return {"api_url": f"{base_url}/w/api.php"} if connector == "mediawiki" else {"base_url": base_url}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (SCRAPY_ACCEPT, "text/html"),  # the bug: DRF ranks by specificity, not q, and HTML is the specific match
        ("application/json", "application/json"),
        ("*/*", "application/json"),  # requests' default: the first renderer, JSON
        (None, "application/json"),
        ("application/json, text/html", "application/json"),
        ("text/html;q=0.1, application/json;q=0.9", "application/json"),  # same precedence: renderer order
        ("image/png", None),  # DRF answers 406
    ],
)
def test_negotiation_is_drf_s(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_format_parameter_overrides_accept() -> None:
    assert negotiate(SCRAPY_ACCEPT, "json") == "application/json"
    assert negotiate("application/json", "api") == "text/html"


def test_json_types() -> None:
    assert is_json_type("application/json; charset=UTF-8")
    assert is_json_type("application/vnd.api+json")
    assert is_json_type("application/x-custom", accept="application/x-custom")
    assert not is_json_type("text/html; charset=utf-8")
    assert not is_json_type(None)


def test_json_body_names_the_url_and_the_content_type() -> None:
    url = "http://127.0.0.1:1/api/v2/pages/"
    html = HtmlResponse(url, body=b"<html>hi</html>", headers={"Content-Type": "text/html; charset=utf-8"})
    with pytest.raises(NotJSON, match=r"http://127\.0\.0\.1:1/api/v2/pages/ answered text/html; charset=utf-8"):
        json_body(html)
    bare = TextResponse(url, body=b"{}")
    with pytest.raises(NotJSON, match="no Content-Type"):
        json_body(bare)
    bad = TextResponse(url, body=b"{nope", headers={"Content-Type": "application/json"})
    with pytest.raises(NotJSON, match="invalid JSON"):
        json_body(bad)
    assert json_body(TextResponse(url, body=b'{"a": 1}', headers={"Content-Type": "application/json"})) == {"a": 1}
    assert JSON_HEADERS == {"Accept": "application/json"}


@pytest.mark.parametrize("connector", ["wagtail", "wordpress", "drupal", "mediawiki"])
def test_ping_refuses_an_html_answer(connector: str) -> None:
    cls = load(connector)
    with LoginWall() as wall:
        options = cls.Options.model_validate(_options(connector, wall.base_url))
        with pytest.raises(ConnectorError, match=r"text/html") as caught:
            cls.ping(options)
        assert wall.base_url in str(caught.value)
        assert all("json" in r.headers.get("accept", "") for r in wall.requests)  # it asked for JSON


@pytest.mark.integration
@pytest.mark.parametrize("connector", ["wagtail", "wordpress", "drupal", "mediawiki"])
def test_crawl_counts_an_html_listing_as_failed(connector: str) -> None:
    with LoginWall() as wall:
        result = run_connector(connector, _options(connector, wall.base_url), ping=False)
        asked = [r.headers.get("accept", "") for r in wall.requests]
    assert result.documents() == {}
    assert result.listing_errors, "an HTML listing must make the run incomplete (nothing swept)"
    assert all("text/html" in e and wall.base_url in e for e in result.listing_errors), result.listing_errors
    assert result.stats.get("pushcrawl/listing_errors") == len(result.listing_errors)
    assert asked and all("json" in a for a in asked), asked  # every API request asked for JSON


@pytest.mark.integration
def test_sitemap_behind_a_login_wall_says_what_came_back() -> None:
    # sitemaps come as text/xml, application/xml, gzip or text/plain: parsing decides, the error names the type
    with LoginWall() as wall:
        url = f"{wall.base_url}/sitemap.xml"
        result = run_connector("sitemap", {"sitemap_urls": [url]}, ping=False)
    assert result.documents() == {}
    assert [e for e in result.listing_errors if url in e and "text/html" in e], result.listing_errors
