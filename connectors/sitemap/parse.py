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


def parse_lastmod(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
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
        damaged = f"not well-formed XML ({exc})"
    try:
        sitemap = Sitemap(xml)
    except (StopIteration, lxml.etree.XMLSyntaxError) as exc:
        return ParsedSitemap("", [], f"not a sitemap ({exc or 'empty'})")
    entries = []
    try:
        for raw in sitemap:
            loc = raw.get("loc")
            if loc:
                entries.append(SitemapEntry(urljoin(base_url, loc), parse_lastmod(raw.get("lastmod"))))
    except lxml.etree.XMLSyntaxError as exc:
        damaged = damaged or f"not well-formed XML ({exc})"
    kind = sitemap.type if sitemap.type in ("urlset", "sitemapindex") else ""
    if not kind:
        damaged = damaged or f"root element is <{sitemap.type}>, not <urlset> or <sitemapindex>"
    return ParsedSitemap(kind, entries, damaged)
