"""``noindex`` as pages declare it: ``<meta name="robots">`` (or ``googlebot``) and the ``X-Robots-Tag`` header.

A page marked noindex asks not to be found by search; indexing it anyway makes it findable by anonymous
search on a public source. Connectors that fetch HTML pages (``sitemap``, ``web``) drop such pages with the
named reason ``noindex``, unless the site's ``obey_noindex: false`` says the marks are meant for public
engines only (an intranet that hides itself from Google but wants its own search).

``X-Robots-Tag`` may be sent several times and may name a user agent (``googlebot: noindex``); a directive for
a named agent other than ours is ignored, like a crawler that is not that agent would.
"""

from __future__ import annotations

from parsel import Selector
from scrapy.http import HtmlResponse, Response, TextResponse

NOINDEX = frozenset({"noindex", "none"})
_META_NAMES = ("robots", "googlebot")


def _may_say_noindex(body: bytes) -> bool:
    """Cheap pre-check before parsing a page: ``noindex`` or ``none`` anywhere, in any ASCII case. Two
    substring tests on the lowered bytes cost a third of ``re.search(rb"noindex|none", re.I)`` on a page."""
    low = body.lower()
    return b"none" in low or b"noindex" in low


def header_directives(response: Response) -> set[str]:
    out: set[str] = set()
    for raw in response.headers.getlist("X-Robots-Tag"):
        value = raw.decode("latin-1")
        agent, sep, rest = value.partition(":")
        # "googlebot: noindex" is for that agent; "noindex, unavailable_after: 25 Jun 2010" is for everyone
        if sep and " " not in agent.strip() and agent.strip().lower() not in NOINDEX and "," not in agent:
            if agent.strip().lower() not in ("*", "pushcrawl"):
                continue
            value = rest
        out.update(d.strip().lower() for d in value.split(","))
    return out


def meta_directives(response: TextResponse) -> set[str]:
    if not _may_say_noindex(response.body):
        return set()
    # the response's own selector when it is an HTML page: Scrapy caches it on the response, so the page is
    # parsed once for this, render auto's check and the extract pipeline (connectors.sitemap.spider)
    sel = response.selector if isinstance(response, HtmlResponse) else Selector(text=response.text, type="html")
    out: set[str] = set()
    for name in _META_NAMES:
        upper = name.upper()
        for content in sel.xpath(f"//meta[translate(@name,'{upper}','{name}')='{name}']/@content").getall():
            out.update(d.strip().lower() for d in content.split(","))
    return out


def noindex_reason(response: Response) -> str | None:
    """Why this response must not be indexed, or None."""
    if header_directives(response) & NOINDEX:
        return "X-Robots-Tag header says noindex"
    if isinstance(response, TextResponse) and meta_directives(response) & NOINDEX:
        return "robots meta tag says noindex"
    return None
