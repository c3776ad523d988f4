"""The per-page fast paths give exactly what the code they shortcut gave (a changed text would change every
page's fingerprint, and so re-push a whole site): ``_squeeze`` against the regex it skips, and the noindex
pre-check against any ASCII case."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from connectors.robots import noindex_reason
from pipelines.extract import _WS, _squeeze, main_text
from pipelines.htmlparse import parse

LINES = [
    "plain prose with single spaces only",
    "two  spaces",
    "tab\there",
    "carriage\rreturn",
    "form\x0cfeed and vertical\x0btab",
    "  leading and trailing  ",
    " \t mixed \t\t runs ",
    "no\u00a0break\u00a0spaces\u2003and an em space stay",
    "",
    " ",
]


@pytest.mark.parametrize("line", LINES)
def test_squeeze_is_the_regex(line: str) -> None:
    assert _squeeze(line) == _WS.sub(" ", line)


def test_main_text_squeezes_runs_inside_a_line() -> None:
    html = "<html><body><main><p>one  \t two\u00a0 three</p><p>four</p></main></body></html>"
    assert main_text(parse(html)) == "one two\u00a0 three\nfour"


@pytest.mark.parametrize(
    "meta",
    [
        '<META NAME="ROBOTS" CONTENT="NOINDEX">',
        '<meta name="Robots" content="None">',
        '<meta name="robots" content="noIndex, follow">',
    ],
)
def test_noindex_in_any_case(meta: str) -> None:
    body = f"<html><head>{meta}</head><body><p>x</p></body></html>".encode()
    response = HtmlResponse("https://x.test/a", body=body, encoding="utf-8")
    assert noindex_reason(response) == "robots meta tag says noindex"
