"""One parse per page: the HTML parser every extraction step shares, the repairs it needs, and a binary sniff.

- **Huge text nodes.** libxml2 silently empties a text node over 10 MB unless ``huge_tree`` is set, so a
  page whose body is one such node would be indexed as its title only. Every parse here sets it (parsel,
  which Scrapy's ``response.selector`` uses, sets it too); the size limits of the push path then decide.
- **Unclosed ``<title>``.** libxml2 reads a title as raw text up to ``</title>``; without one the rest of the
  document, markup included, becomes the title and the body is empty. ``repair`` closes the title at its
  first tag, which is where browsers show it ending too.
- **Binary served as HTML.** Decoded bytes of an image or an archive are mostly letters and symbols in any
  single-byte charset, so a share of replacement characters does not catch them; C0 control characters do:
  text never has them (beyond tab, newline, carriage return and form feed), random bytes have ~12 %.

``role_main``: the ``role="main"`` elements of a tree, looked up once per tree. It is an XPath walk of the whole
page (~2 ms of a large documentation page, where finding ``<main>`` costs microseconds), and both render auto's
check (connectors.render.middleware) and the extract pipeline ask it of the same tree.

The tree a connector parsed (``share_tree``) travels on the Document to the extract pipeline, which takes it
(``take_tree``) instead of parsing the page again; it is never serialised.

**A page's tree is freed when its Document is done with it** (``release_selector``). Scrapy's
``response.selector`` keeps a reference to its response: the pair is a reference cycle, so the response, and
the lxml tree the selector holds (several times the page's size, in C memory), outlive the callback until
Python's cyclic collector runs a full collection. In a crawl process that holds much long-lived state, full
collections are rare: on python3.11-doc's large pages ~90 dead trees (~100 MB) were found waiting for one
(bench/RESULTS.md, "web connector peak RSS").
"""

from __future__ import annotations

import re
import threading
import weakref

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from scrapy.http import Response, TextResponse

from crawler.model import Document

#: C0 controls other than \t \n \f \r, and DEL: absent from text, frequent in binary data
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
#: how much of a page the binary sniff reads (the start of a file is where its format shows)
SNIFF_CHARS = 64 * 1024
#: share of control characters in the sniffed part above which a page is binary (text: 0; random bytes: ~0.12)
MAX_CONTROL_RATIO = 0.02

_TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.IGNORECASE)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.IGNORECASE)


def looks_binary(text: str) -> bool:
    """True when the start of ``text`` holds control characters no text has: bytes decoded as if they were."""
    sample = text[:SNIFF_CHARS]
    return len(_CONTROL.findall(sample)) > MAX_CONTROL_RATIO * max(len(sample), 1)


def repair(html: str) -> str:
    """``html`` with an unclosed ``<title>`` closed before its first tag (the same string when nothing to do)."""
    opened = _TITLE_OPEN.search(html)
    if opened is None or _TITLE_CLOSE.search(html, opened.end()):
        return html
    end = html.find("<", opened.end())
    end = len(html) if end < 0 else end
    return f"{html[:end]}</title>{html[end:]}"


_PARSERS = threading.local()  # an lxml parser may be reused, but by one thread at a time


def parse(html: str) -> HtmlElement:  # lxml ships no type information: the name documents, mypy sees Any
    """The page's lxml.html tree (the ``<html>`` element), huge text nodes kept."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:  # made once per thread: building a parser costs about what parsing a small page does
        parser = _PARSERS.parser = lxml.html.HTMLParser(huge_tree=True)
    return lxml.html.document_fromstring(html, parser=parser)


_ROLE_MAIN = etree.XPath("descendant-or-self::*[@role='main']")  # ~25 % faster than //*[...], the same elements
#: root element → its role=main elements. Weak: an entry goes with its tree's root (lxml frees a proxy nobody holds)
_ROLE_MAIN_FOUND: weakref.WeakKeyDictionary[etree._Element, list[etree._Element]] = weakref.WeakKeyDictionary()


def role_main(tree: etree._Element) -> list[etree._Element]:
    """``tree``'s elements with ``role="main"``, in document order; found once per tree (module docstring). An
    element removed from the tree since is left out (the extract pipeline removes boilerplate, a connector may
    change a tree); one added since is not seen: the trees shared here are read, not built on, before extraction."""
    found = _ROLE_MAIN_FOUND.get(tree)
    if found is None:
        found = _ROLE_MAIN_FOUND[tree] = list(_ROLE_MAIN(tree))
        return found
    return [el for el in found if el is tree or any(up is tree for up in el.iterancestors())]


def share_tree(doc: Document, tree: HtmlElement) -> None:
    """Hand the tree a connector parsed from ``doc.html`` to the extract pipeline."""
    doc._tree = (tree, doc.html)


def take_tree(doc: Document) -> HtmlElement | None:
    """The tree shared for ``doc``, else None (released from the Document: the pipeline modifies it).

    Only while ``doc.html`` is still the string it was parsed from: a connector that rewrote it gets a new parse.
    """
    shared, doc._tree = doc._tree, None
    return shared[0] if shared is not None and shared[1] is doc.html else None


def release_selector(response: Response) -> None:
    """Break the cycle between a response and the selector it cached, so both (and the tree, unless a Document
    still holds it) go as soon as Scrapy drops the response. The response stays usable: asked again for its
    selector, it parses the page again."""
    # _cached_selector: Scrapy's cache of ``response.selector``, read without making one
    if isinstance(response, TextResponse) and response._cached_selector is not None:
        response._cached_selector.response = None  # Scrapy's Selector keeps its response only to have been made from it
        response._cached_selector = None
