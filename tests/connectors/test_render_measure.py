"""render auto's decision reads the page's own parse and changes nothing in it; the browser's memory bound
counts the browser only.

- ``measure``: the main text's length and whether the page has scripts, on hand-counted pages (NOISE subtrees
  left out with their tails kept, comments, nested roots, a root inside a header), the tree left unchanged.
- ``measure`` with auto's limit decides as the whole measure does (hand-made and random pages), and stops early.
- ``role_main`` is looked up once per tree: auto's check and the extract pipeline share it in a real crawl.
- The sitemap connector hands a tree it parsed (the noindex check, render auto's check) to the extract pipeline:
  one parse per page.
- ``browser_rss_mb``: Playwright's driver and what runs under it, not the local Push API's child process.
"""

from __future__ import annotations

import random
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
from pipelines import htmlparse
from pipelines.extract import extract_html
from tests.fixtures.base import Reply, Request
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


TAGS = ("p", "div", "span", "main", "article", "script", "style", "nav", "header", "footer", "noscript", "template")
WORDS = ("word", "x", "  ", "\xa0", "longer words here", "\n")


def random_body(rng: random.Random, depth: int = 0) -> str:
    """Nested elements, some with role=main, some NOISE, with comments, tails and whitespace runs."""
    out = []
    for _ in range(rng.randint(0, 4)):
        tag = rng.choice(TAGS)
        role = " role='main'" if rng.random() < 0.2 else ""
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30)))
        inner = random_body(rng, depth + 1) if depth < 3 else ""
        tail = rng.choice(["", " tail text ", "t", "<!-- c --> more"])
        out.append(f"<{tag}{role}>{text}{rng.choice(['', '<!-- c -->after '])}{inner}</{tag}>{tail}")
    return "".join(out)


@pytest.mark.parametrize("limit", [1, 10, 50, 200])
def test_measure_up_to_a_limit_decides_as_the_whole_measure(limit: int) -> None:
    rng = random.Random(limit)
    decided = {True: 0, False: 0}
    for _ in range(1500):
        head = rng.choice(["", "<script>1</script>"])
        html = f"<html><head>{head}</head><body>{random_body(rng)}</body></html>"
        whole = measure(page("").replace(body=html.encode()).selector.root)
        length, has_script = measure(page("").replace(body=html.encode()).selector.root, limit)
        assert has_script == whole[1]
        render = has_script and length < limit
        assert render == (whole[1] and whole[0] < limit), html
        if render:
            assert length == whole[0]  # under the limit the length is exact
        elif has_script:
            assert limit <= length <= whole[0]  # stopped early: at least the limit, never more than the whole
        decided[render] += 1
    assert decided[True] > 50 and decided[False] > 50  # both decisions were exercised


def test_measure_up_to_a_limit_stops_reading_a_long_text() -> None:
    paragraphs = "<p>many words of text</p>" * 5000
    script = "<script>1</script>"
    walked = page(f"<main>{paragraphs}<nav>menu</nav>{paragraphs}</main>", head=script).selector.root  # NOISE inside
    joined = page(f"<main>{paragraphs}</main>", head=script).selector.root  # no NOISE: one string() in C
    for tree in (walked, joined):
        whole, _ = measure(tree)
        assert whole > 80_000
        assert 200 <= measure(tree, 200)[0] < 1000  # what was counted before stopping, not the whole page
    assert measure(page("<main>short</main>").selector.root, 200) == (0, False)  # no script: not measured


def test_role_main_is_looked_up_once_per_tree_and_drops_removed_elements() -> None:
    tree = page("<div role='main'>one</div><p role='main'>two</p>").selector.root
    first = htmlparse.role_main(tree)
    assert [el.text for el in first] == ["one", "two"]
    assert htmlparse.role_main(tree)[0] is first[0]  # the same elements, not a new look-up
    first[0].drop_tree()
    assert [el.text for el in htmlparse.role_main(tree)] == ["two"]


class CountedXPath:
    """htmlparse's role look-up, counted (the real XPath runs)."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.calls = 0

    def __call__(self, tree: object) -> object:
        self.calls += 1
        return self.real(tree)  # type: ignore[operator]


class SphinxLikeSite(SitemapSite):
    """SitemapSite's pages in Sphinx's markup: role=main on a div (no ``<main>``), a script in the head."""

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if not request.path.startswith("/pages/") or reply.status != 200:
            return reply
        prose = "Plenty of server-rendered prose here. " * 12
        return Reply(
            200,
            "<html><head><title>Doc</title><script>var x = 1;</script></head><body><div class='nav'>menu</div>"
            f"<div role='main'><p>{prose}</p></div></body></html>",
            "text/html; charset=utf-8",
        )


#: document id -> the text the extract step read from it
EXTRACTED: dict[str, str] = {}


class Extract:
    """An item pipeline running the extract pipeline's own extraction (extract_html) on each Document."""

    def process_item(self, item: object) -> object:
        if isinstance(item, Document):
            extract_html(item)
            EXTRACTED[item.document_id] = item.text or ""
        return item


@pytest.mark.integration
def test_auto_check_and_extraction_share_one_role_lookup_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    EXTRACTED.clear()
    counted = CountedXPath(htmlparse._ROLE_MAIN)
    monkeypatch.setattr(htmlparse, "_ROLE_MAIN", counted)
    with SphinxLikeSite(pages=4) as site:
        opts = {"sitemap_urls": [f"{site.base_url}/sitemap.xml"], "render": {"mode": "auto"}}
        result = run_connector("sitemap", opts, settings={"ITEM_PIPELINES": {f"{__name__}.Extract": 1}})
    assert len(result.documents()) == 4
    assert result.stats["pushcrawl/render/plain"] == 4
    # the main text came from the role=main div, not the menu beside it
    assert len(EXTRACTED) == 4
    assert all(text.startswith("Plenty of server-rendered prose") for text in EXTRACTED.values())
    # one look-up per page: auto's check made it, extraction took it from the same tree (it was 2 a page)
    assert counted.calls == 4


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
