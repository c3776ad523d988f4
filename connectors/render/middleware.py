"""RenderMiddleware: send the pages that need a browser through scrapy-playwright, and keep it bounded.

Enabled by ``render_settings()`` (from the connector's ``from_crawler``) when ``render.mode`` is not never.

- **always**: every request whose URL matches ``url_patterns`` is marked for the browser before download,
  except robots.txt and requests a connector marks ``meta["dont_render"]`` (the sitemap connector's sitemaps).
- **auto**: every page is fetched plainly first. It is rendered again in the browser only when both hold:
  the HTML has at least one ``<script>`` (a page without scripts cannot change when rendered) and its main
  text — the text of ``<main>``, ``[role=main]`` or ``<article>`` when present, else of ``<body>`` without
  script, style, noscript, nav, header and footer — is shorter than ``auto_min_text`` characters (200).
  Counted: ``pushcrawl/render/plain`` (kept as fetched), ``pushcrawl/render/auto`` (rendered after the check).
- Every rendered page counts ``pushcrawl/render/rendered``; a page whose scripts threw is still rendered and
  counts ``pushcrawl/render/script_errors``; a page that does not settle within ``timeout_s`` is dropped
  (``pushcrawl/dropped/render_timeout``) and the run goes on; a browser that crashed is relaunched by
  scrapy-playwright; the crash counts once (``pushcrawl/render/browser_crashes``) and every page it took down
  is retried once (``pushcrawl/render/crash_retries``; ``retried_after_restart`` after a memory restart).
- Bounds: pages are rendered in browser contexts named by generation; after ``max_pages_per_context`` pages
  a new context is used and the old one closed once its last page is done (contexts are where Chromium's
  memory grows). After each page the browser's processes are measured; above ``max_browser_mb`` the browser
  is closed and relaunched by the next request (``pushcrawl/render/browser_restarts``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from lxml import etree
from lxml import html as lxml_html
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response

from connectors.render.browser import META, BrowserWatch
from connectors.render.options import RenderOptions
from pipelines.htmlparse import role_main

logger = logging.getLogger(__name__)
MAIN = "//main | //*[@role='main'] | //article"
NOISE = ("script", "style", "noscript", "nav", "header", "footer", "template")


_NOISE_TAGS = frozenset(NOISE)
_BODY = etree.XPath("//body")
_STRING = etree.XPath("string()")


def _roots(tree: etree._Element) -> Iterator[etree._Element]:
    """The elements of MAIN (their order does not matter: their lengths are added). ``iter`` filters tags in C
    (~3 µs a large documentation page); the ``role`` look-up is an XPath walk (~2 ms), asked only when
    ``<main>`` and ``<article>`` did not already decide, and shared with the extract pipeline (role_main)."""
    # a list, not the iterator: the proxies stay alive, so an element found again by role has the same id
    found = list(tree.iter("main", "article"))
    yield from found
    seen = {id(el) for el in found}
    yield from (el for el in role_main(tree) if id(el) not in seen)


def _measured_roots(tree: etree._Element) -> Iterator[etree._Element]:
    """MAIN's elements, else the body (else the whole tree): the parts whose text is the main text."""
    found = False
    for root in _roots(tree):
        found = True
        yield root
    if not found:
        yield from _BODY(tree) or [tree]


def _normalised(text: str) -> int:
    return len(" ".join(text.split()))


def _text_length(root: etree._Element, limit: int | None = None) -> int:
    """The word-normalised length of ``root``'s text without the text inside NOISE elements (their tails are
    kept); with ``limit``, the walk may stop once that many characters are counted (the result is then at least
    ``limit``, not the whole length). The tree is only read: without NOISE inside, it is XPath's ``string()`` (one
    concatenation in C); else a walk that skips the NOISE subtrees."""
    if next(root.iter(*NOISE), None) is None:
        text = _STRING(root)
        if limit is not None and len(text) > 4 * limit:
            # a prefix's length is a lower bound (below): enough when the start of the text already reaches it
            start = _normalised(text[: 4 * limit])
            if start >= limit:
                return start
        return _normalised(text)
    parts: list[str] = [root.text or ""]
    raw = len(parts[0])
    # the normalised length is at most the raw one: it is worth computing once the raw one reaches the limit
    check_at = limit if limit is not None else -1
    # iterative (a deep page would pass Python's recursion limit): each level's children, and the tail to add
    # once that level is done; comments and processing instructions are children whose text is not text
    stack: list[tuple[Iterator[etree._Element], str | None]] = [(iter(root), None)]
    while stack:
        children, tail = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            text = tail or ""
        elif isinstance(child.tag, str) and child.tag not in _NOISE_TAGS:
            text = child.text or ""
            stack.append((iter(child), child.tail))
        else:
            text = child.tail or ""
        if text:
            parts.append(text)
            raw += len(text)
            if 0 <= check_at <= raw:
                # words never shrink by being followed by more text, so a prefix's length is a lower bound
                counted = _normalised("".join(parts))
                if limit is not None and counted >= limit:
                    return counted
                check_at = raw + (limit or 0) - counted
    return _normalised("".join(parts))


def measure(tree: etree._Element, limit: int | None = None) -> tuple[int, bool]:
    """(length of the page's main text, whether it has scripts) — the facts ``auto`` decides on. The tree is
    only read, never changed: it is the one the connector goes on to use (``response.selector``'s).

    With ``limit`` (auto's ``auto_min_text``), only what the decision needs is measured: a page without scripts
    is not measured (length 0: it is never rendered), and counting stops once the main text reaches ``limit``
    (length ≥ ``limit``). Without, the whole length (``preview --render`` prints it)."""
    has_script = next(tree.iter("script"), None) is not None  # stops at the first
    if limit is not None and not has_script:
        return 0, False
    total = 0
    for root in _measured_roots(tree):
        total += _text_length(root, None if limit is None else limit - total)
        if limit is not None and total >= limit:
            break
    return total, has_script


def main_text_length(body: bytes | str) -> tuple[int, bool]:
    """``measure`` of a page given as HTML (``preview --render``)."""
    try:
        tree = lxml_html.fromstring(body)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return 0, False
    return measure(tree)


def response_main_text(response: HtmlResponse, limit: int | None = None) -> tuple[int, bool]:
    """``measure`` of a fetched page (up to ``limit``), on ``response.selector``'s tree: Scrapy keeps that selector
    on the response, so the connector's own parse of the page (noindex, title, the tree the extract pipeline
    takes) reuses it and ``auto`` costs no second parse of every page (it was ~10 % of a crawl process's CPU on
    real pages)."""
    try:
        root = response.selector.root
    except (ValueError, TypeError, etree.ParserError):
        return 0, False
    if not isinstance(root, etree._Element):
        return 0, False
    return measure(root, limit)


class RenderMiddleware:
    def __init__(self, crawler: Crawler, options: RenderOptions) -> None:
        self.crawler = crawler
        self.options = options
        self.stats = crawler.stats
        self.watch = BrowserWatch(crawler, options)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderMiddleware:
        options = getattr(getattr(crawler.spider, "options", None), "render", None)
        if not isinstance(options, RenderOptions) or not options.enabled:
            raise NotConfigured("render.mode is never")
        return cls(crawler, options)

    def _mark(self, request: Request, why: str) -> None:
        request.meta.update(self.watch.meta_for(request, why))

    def process_request(self, request: Request) -> None:
        if META in request.meta or request.meta.get("dont_render") or not self.options.wanted(request.url):
            return
        if self.options.mode == "always" and not request.url.endswith("/robots.txt"):
            self._mark(request, "always")

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if META in request.meta:
            await self.watch.page_done(request, response)
            self.stats.inc_value("pushcrawl/render/rendered")
            return response
        if (
            self.options.mode != "auto"
            or request.meta.get("dont_render")
            or not isinstance(response, HtmlResponse)
            or not self.options.wanted(request.url)
        ):
            return response
        if response.status != 200:
            return response
        length, has_script = response_main_text(response, self.options.auto_min_text)
        if has_script and length < self.options.auto_min_text:
            self.stats.inc_value("pushcrawl/render/auto")
            again = request.replace(dont_filter=True)  # the plain fetch already marked the URL as seen
            self._mark(again, "auto")
            return again
        self.stats.inc_value("pushcrawl/render/plain")
        return response

    async def process_exception(self, request: Request, exception: BaseException) -> Request | None:
        if META not in request.meta:
            return None
        await self.watch.page_failed(request)
        name = type(exception).__name__
        text = str(exception)
        if name == "TimeoutError" or ("Timeout" in text and "exceeded" in text):
            self.stats.inc_value("pushcrawl/dropped/render_timeout")
            logger.warning(
                "not indexed (render_timeout): %s did not settle within %ss", request.url, self.options.timeout_s
            )
            raise IgnoreRequest(f"render_timeout: {request.url}")
        if _browser_gone(text) and not request.meta.get("pushcrawl_render_retry"):
            generation = int(request.meta.get("pushcrawl_render_generation", 0))
            if generation < self.watch.restarted_at:
                # its browser was closed on purpose (the memory bound): not a crash, still retried once
                self.stats.inc_value("pushcrawl/render/retried_after_restart")
            elif generation >= self.watch.crashed_at:  # the first page to report this crash counts it
                self.watch.crashed()
                logger.warning("the browser went away while rendering %s (%s): retrying once", request.url, name)
            self.stats.inc_value("pushcrawl/render/crash_retries")
            retry = request.replace(dont_filter=True)
            retry.meta["pushcrawl_render_retry"] = 1
            for key in [k for k in retry.meta if k.startswith("playwright")]:
                del retry.meta[key]
            retry.meta.pop(META, None)
            self._mark(retry, str(request.meta.get(META)))
            return retry
        return None


def _browser_gone(text: str) -> bool:
    gone = ("has been closed", "Target closed", "Browser closed", "crashed", "disconnected", "Failed to open a new tab")
    return any(s in text for s in gone)
