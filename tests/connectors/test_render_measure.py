"""render auto's decision reads the page's own parse and changes nothing in it; the browser's memory bound
counts the browser only.

- ``measure``: the main text's length and whether the page has scripts, on hand-counted pages (NOISE subtrees
  left out with their tails kept, comments, nested roots, a root inside a header), the tree left unchanged.
- The sitemap connector hands a tree it parsed (the noindex check, render auto's check) to the extract pipeline:
  one parse per page.
- ``browser_rss_mb``: Playwright's driver and what runs under it, not the local Push API's child process.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest
from lxml import etree
from scrapy.http import HtmlResponse

from connectors.render.browser import browser_rss_mb
from connectors.render.middleware import main_text_length, measure, response_main_text
from crawler.model import Document
from tests.fixtures.crawl import run_connector
from tests.fixtures.sitemap_site import SitemapSite


def page(body: str, head: str = "") -> HtmlResponse:
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    return HtmlResponse(url="http://127.0.0.1/p", body=html.encode(), encoding="utf-8")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # no main element: the body, without nav / footer / script text, tails kept
        ("<nav>menu menu</nav>Hello <script>var x = 1;</script>world<footer>foot</footer>!", len("Hello world!")),
        # a main element wins over the body; a comment's text is not text
        ("<p>outside</p><main>in <!-- a comment --> side <style>p{}</style>here</main>", len("in side here")),
        # role=main counts like <main>; two roots add up (a nested article is counted inside main and again)
        ("<div role='main'>ab</div><main>cd<article>ef</article></main>", len("ab") + len("cdef") + len("ef")),
        # NOISE inside NOISE, whitespace runs made one space
        ("<main>a  <header>x<nav>y</nav>z</header>\n\t b <template><p>t</p></template>c</main>", len("a b c")),
        # a root that is itself inside a header still counts its own text
        ("<header><article>inside header</article></header>", len("inside header")),
    ],
)
def test_measure_counts_main_text_without_noise(body: str, expected: int) -> None:
    response = page(body)
    assert response_main_text(response) == (expected, "<script" in body)
    assert main_text_length(response.text) == (expected, "<script" in body)  # preview --render's path


def test_measure_sees_a_script_in_the_head() -> None:
    assert measure(page("<main>text</main>", head="<script>1</script>").selector.root) == (4, True)
    assert measure(page("<main>text</main>").selector.root) == (4, False)


def test_measure_leaves_the_tree_as_the_connector_will_read_it() -> None:
    response = page("<nav><a href='/next'>next</a></nav><main>a<script>s</script>b</main><footer>f</footer>")
    root = response.selector.root
    before = etree.tostring(root)
    assert response_main_text(response) == (2, True)
    assert etree.tostring(root) == before  # the nav link is still there for the connector to follow
    assert response.selector.root is root  # and the parse is the response's own, cached


#: document id -> whether the Document reached the item pipelines carrying the tree its spider parsed
SHARED: dict[str, bool] = {}


class RecordSharedTree:
    """An item pipeline ahead of the others: notes ``Document._tree`` (pipelines.htmlparse.share_tree)."""

    def process_item(self, item: object) -> object:
        if isinstance(item, Document):
            SHARED[item.document_id] = item._tree is not None
        return item


@pytest.mark.integration
def test_sitemap_pages_hand_their_parsed_tree_to_the_extract_pipeline() -> None:
    SHARED.clear()
    with SitemapSite(pages=3) as site:
        # "none" in a page makes the noindex check parse it (render auto parses every page): that parse is the
        # one the extract pipeline then uses
        site.add("said-none", "None", "There is none of it here.")
        opts = {"sitemap_urls": [f"{site.base_url}/sitemap.xml"]}
        settings = {"ITEM_PIPELINES": {f"{__name__}.RecordSharedTree": 1}}
        result = run_connector("sitemap", opts, settings=settings)
        said_none = site.url("said-none")
    assert len(result.documents()) == 4
    assert SHARED.pop(said_none) is True
    assert set(SHARED.values()) == {False}  # the others were never parsed by the spider: extract parses them


HOLD = "import sys, time; b = bytearray({mb} * 2**20); b[::4096] = b'x' * len(b[::4096]); {more}time.sleep(60)"


@pytest.fixture
def two_children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """A stand-in for the local Push API's child (120 MB, plain python) and one for Playwright's driver (a
    python whose argv[0] names playwright) with a 60 MB grandchild — the shape of a rendering crawl's tree."""
    grandchild = HOLD.format(mb=60, more="")
    spawn = f"import subprocess; subprocess.Popen([{sys.executable!r}, '-c', {grandchild!r}]); "
    procs = [
        subprocess.Popen([sys.executable, "-c", HOLD.format(mb=120, more="")]),
        subprocess.Popen(["playwright-stand-in", "-c", HOLD.format(mb=1, more=spawn)], executable=sys.executable),
    ]
    time.sleep(3)  # both have allocated
    yield procs
    for proc in procs:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        proc.kill()
        proc.wait()


def test_browser_memory_counts_the_driver_tree_not_the_local_api_child(
    two_children: list[subprocess.Popen[bytes]],
) -> None:
    used = browser_rss_mb()
    # the driver stand-in and its 60 MB grandchild; the 120 MB child is not the browser's
    assert 55 < used < 110
