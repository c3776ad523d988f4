"""Extract pipeline: HTML → main text plus page metadata (title, description, author, dates, canonical, language).

Values a connector already set win over what is read from the page. Boilerplate (navigation, header, footer,
sidebars, scripts) is removed before the text is taken, preferring ``<main>``/``<article>`` when present.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import lxml.html
from lxml import etree

from crawler.model import Document, MetadataValue
from pipelines import drop

_BOILERPLATE = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg")
_WS = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n\s*\n+")
_DATE_META = ("article:published_time", "date", "dc.date", "dcterms.created", "datepublished", "pubdate")
_MODIFIED_META = ("article:modified_time", "last-modified", "dcterms.modified", "datemodified")


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _meta(tree: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("name") or el.get("property") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content is not None and key not in out:
            out[key] = content.strip()
    return out


def main_text(tree: Any) -> str:
    for el in list(tree.iter(*_BOILERPLATE)):
        if el.getparent() is not None:
            el.drop_tree()
    root = next(iter(tree.iter("main")), None)
    if root is None:
        root = next(iter(tree.iter("article")), None)
    if root is None:
        body = tree.find("body")
        root = body if body is not None else tree
    # itertext joins inline runs; block elements get a newline so paragraphs stay apart
    for el in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "section"):
        el.tail = "\n" + (el.tail or "")
    text = "".join(root.itertext())
    lines = (_WS.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", "\n".join(line for line in lines if line)).strip()


def extract_html(doc: Document) -> None:
    """Fill a Document from its ``html``: text, title, author, dates, language and page metadata."""
    try:
        tree = lxml.html.document_fromstring(doc.html or "")
    except (etree.ParserError, ValueError):
        doc.text = ""
        return
    meta = _meta(tree)
    title_el = tree.find(".//title")
    page_title = title_el.text_content().strip() if title_el is not None else ""
    doc.title = doc.title or meta.get("og:title") or page_title or None
    doc.author = doc.author or meta.get("author") or meta.get("article:author") or None
    if doc.date is None:
        doc.date = next((d for k in _DATE_META if (d := parse_date(meta.get(k)))), None)
        if doc.date is None:
            time_el = next(iter(tree.iter("time")), None)
            doc.date = parse_date(time_el.get("datetime") if time_el is not None else None)
    if doc.modified is None:
        doc.modified = next((d for k in _MODIFIED_META if (d := parse_date(meta.get(k)))), None)
    doc.language = doc.language or (tree.get("lang") or "").split("-")[0].lower() or None
    canonical = next((el.get("href") for el in tree.iter("link") if el.get("rel") == "canonical"), None)
    found: tuple[tuple[str, MetadataValue | None], ...] = (
        ("description", meta.get("description") or meta.get("og:description")),
        ("canonical_url", canonical),
        ("keywords", [k.strip() for k in meta.get("keywords", "").split(",") if k.strip()] or None),
        ("category", meta.get("category")),
    )
    for key, value in found:
        if value and key not in doc.metadata:
            doc.metadata[key] = value
    doc.text = main_text(tree)


class ExtractPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Document):
            return item
        self.crawler.stats.inc_value("pushcrawl/documents")
        if item.html is not None and item.text is None and item.binary is None:
            extract_html(item)
            if not item.text and not item.title:
                raise drop(self.crawler, "empty", f"{item.document_id} has no text and no title")
        if not item.title:
            item.title = item.document_id.rstrip("/").rsplit("/", 1)[-1] or item.document_id
        return item
