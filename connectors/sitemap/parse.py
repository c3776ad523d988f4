"""Sitemap bodies → entries, on top of Scrapy's own parser (``scrapy.utils.sitemap.Sitemap``).

What this adds: gzip detection by content, relative ``<loc>`` resolved against the sitemap's URL (lenient:
the protocol wants absolute URLs, but relative ones are common in generated and local sitemaps), typed
``lastmod``, and a strictness check: a sitemap that only parses in lxml's recover mode is reported as damaged,
so a run that read it cannot be called complete.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import lxml.etree
from scrapy.utils.sitemap import Sitemap

from crawler import dates

MAX_UNCOMPRESSED = 50 * 1024 * 1024 * 4  # the protocol caps a sitemap at 50 MB; allow generous slack


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None


@dataclass(frozen=True)
class ParsedSitemap:
    kind: str  # "urlset" | "sitemapindex" | "" when unknown
    entries: list[SitemapEntry]
    damaged: str | None  # why the body is not well-formed, when it is not
    invalid_lastmods: tuple[str, ...] = ()  # <lastmod> values present but unreadable (counted by the spider)


def _why(exc: BaseException) -> str:
    """lxml may raise with an empty message (a body cut short): say so rather than print nothing."""
    return str(exc).strip() or f"{type(exc).__name__}: the document ends early or is empty"


def parse_lastmod(value: str | None, invalid: list[str] | None = None) -> datetime | None:
    """A ``<lastmod>`` (W3C datetime, or what sitemaps in the wild write: RFC 2822, "14 March 2025") in UTC."""
    if not value or not value.strip():
        return None
    try:
        parsed = dates.parse(value)
    except dates.InvalidDate as exc:
        if invalid is not None:
            invalid.append(str(exc))
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def decompress(body: bytes) -> bytes:
    if body[:2] == b"\x1f\x8b":
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = decoder.decompress(body, MAX_UNCOMPRESSED)
        if decoder.unconsumed_tail:
            raise ValueError(f"gzipped sitemap expands beyond {MAX_UNCOMPRESSED} bytes")
        return out
    return body


def parse_sitemap(body: bytes, base_url: str) -> ParsedSitemap:
    try:
        xml = decompress(body)
    except (ValueError, zlib.error, gzip.BadGzipFile, EOFError) as exc:
        return ParsedSitemap("", [], f"cannot decompress: {exc}")
    damaged = None
    try:
        lxml.etree.fromstring(xml, parser=lxml.etree.XMLParser(resolve_entities=False, no_network=True))
    except lxml.etree.XMLSyntaxError as exc:
        damaged = f"not well-formed XML ({_why(exc)})"
    try:
        sitemap = Sitemap(xml)
    except (StopIteration, lxml.etree.XMLSyntaxError) as exc:
        return ParsedSitemap("", [], f"not a sitemap ({_why(exc) if str(exc) else 'empty'})")
    entries = []
    invalid: list[str] = []
    try:
        for raw in sitemap:
            loc = raw.get("loc")
            if loc:
                entries.append(SitemapEntry(urljoin(base_url, loc), parse_lastmod(raw.get("lastmod"), invalid)))
    except lxml.etree.XMLSyntaxError as exc:
        damaged = damaged or f"not well-formed XML ({_why(exc)})"
    kind = sitemap.type if sitemap.type in ("urlset", "sitemapindex") else ""
    if not kind:
        damaged = damaged or f"root element is <{sitemap.type}>, not <urlset> or <sitemapindex>"
    return ParsedSitemap(kind, entries, damaged, tuple(invalid))
