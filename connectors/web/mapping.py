"""An HTML response → Document, or the reason it is not indexed (pure: tests build responses from samples).

Encoding is Scrapy's: HTTP header, then BOM, then ``<meta charset>``, then a guess (UTF-8, else cp1252), so
legacy pages decode to readable text. What cannot be read is refused with a reason the spider counts:
``not_html`` (binary or other content), ``undecodable`` (too many replacement characters: wrong or lying
charset), ``noindex`` (robots meta), ``empty`` (no text at all, e.g. a page cut before its body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

from parsel import Selector
from pydantic import BaseModel, ConfigDict, model_validator
from scrapy.http import Response, TextResponse

from connectors.robots import NOINDEX, header_directives
from crawler.model import Document, MetadataValue

#: share of U+FFFD replacement characters above which a page is considered undecodable
MAX_REPLACEMENT_RATIO = 0.01


class FieldRule(BaseModel):
    """One extracted field: a CSS or an XPath selector (not both); ``multiple`` keeps every match."""

    model_config = ConfigDict(extra="forbid")
    css: str | None = None
    xpath: str | None = None
    multiple: bool = False

    @model_validator(mode="after")
    def _one(self) -> FieldRule:
        if (self.css is None) == (self.xpath is None):
            raise ValueError("exactly one of 'css' or 'xpath'")
        return self


@dataclass
class Refused:
    reason: Literal["not_html", "undecodable", "noindex", "empty"]
    detail: str


def strip_fragment(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def robots_directives(sel: Selector) -> set[str]:
    values = sel.xpath("//meta[translate(@name,'ROBTS','robts')='robots']/@content").getall()
    return {d.strip().lower() for v in values for d in v.split(",")}


def canonical_url(response: TextResponse, allowed_hosts: set[str]) -> str:
    """``<link rel=canonical>`` when it stays on the crawled hosts, else the URL fetched; no fragment."""
    href = response.xpath("//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href").get()
    if href:
        url = urljoin(response.url, href.strip())
        if urlsplit(url).scheme in ("http", "https") and (urlsplit(url).hostname or "") in allowed_hosts:
            return strip_fragment(url)
    return strip_fragment(response.url)


def extract_fields(sel: Selector, rules: dict[str, FieldRule]) -> dict[str, MetadataValue]:
    out: dict[str, MetadataValue] = {}
    for name, rule in rules.items():
        found = sel.css(rule.css) if rule.css is not None else sel.xpath(rule.xpath or "")
        values = []
        for item in found:
            text = item.root if isinstance(item.root, str) else item.xpath("normalize-space(string())").get()
            if text and text.strip():
                values.append(re.sub(r"\s+", " ", text).strip())
        if values:
            out[name] = list(values) if rule.multiple else values[0]
    return out


def last_modified(response: Response) -> datetime | None:
    header = response.headers.get("Last-Modified")
    if not header:
        return None
    try:
        return parsedate_to_datetime(header.decode("latin-1"))
    except (TypeError, ValueError):
        return None


def page_document(
    response: Response, document_id: str, rules: dict[str, FieldRule] | None = None, obey_noindex: bool = True
) -> Document | Refused:
    if not isinstance(response, TextResponse) or b"html" not in (response.headers.get("Content-Type") or b"html"):
        return Refused("not_html", (response.headers.get("Content-Type") or b"?").decode("latin-1"))
    text = response.text
    if text.count("\ufffd") > MAX_REPLACEMENT_RATIO * max(len(text), 1):
        return Refused("undecodable", f"declared {response.encoding}, too many unreadable characters")
    sel = Selector(text=text, type="html")
    if obey_noindex and ("noindex" in robots_directives(sel) or "none" in robots_directives(sel)):
        return Refused("noindex", "robots meta says noindex")
    if obey_noindex and header_directives(response) & NOINDEX:
        return Refused("noindex", "X-Robots-Tag header says noindex")
    body_text = " ".join(t.strip() for t in sel.xpath("//body//text()[not(ancestor::script)]").getall()).strip()
    if not body_text:
        return Refused("empty", "no text in the page body")
    title = (
        sel.xpath("normalize-space(//title)").get()
        or sel.xpath("//meta[@property='og:title']/@content").get()
        or sel.xpath("normalize-space(//h1)").get()
        or document_id
    )
    metadata: dict[str, MetadataValue] = {}
    description = sel.xpath("//meta[translate(@name,'DESCRIPTION','description')='description']/@content").get()
    if description:
        metadata["description"] = description.strip()
    metadata.update(extract_fields(sel, rules or {}))
    return Document(
        document_id=document_id,
        clickable_uri=document_id,
        title=title.strip(),
        author=(sel.xpath("//meta[@name='author']/@content").get() or None),
        modified=last_modified(response),
        language=(sel.xpath("/html/@lang").get() or None),
        html=text,
        metadata=metadata,
    )
