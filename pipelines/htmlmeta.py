"""Page metadata from HTML: ``<meta>`` tags, OpenGraph / ``article:`` properties and JSON-LD.

JSON-LD is parsed with lxml + json rather than extruct: extruct pulls in rdflib, mf2py and html5lib for
microdata/RDFa we do not use, and a few lines cover the schema.org objects CMS pages carry (Article,
NewsArticle, TechArticle, BlogPosting, WebPage, Product), including ``@graph`` wrappers.

Names come out already in field form (``og:title`` → ``og_title``) because this is our own vocabulary;
the fields pipeline's renaming report is for names connectors supply.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from lxml.html import HtmlElement

from crawler import dates
from crawler.fieldrules import normalise_name
from crawler.jsontypes import JSONData, JSONObject

#: meta names that describe the page's rendering, not its content
IGNORED_META = frozenset(
    ("viewport", "robots", "googlebot", "theme-color", "format-detection", "referrer", "csrf-token", "generator")
)
DATE_KEYS = ("article:published_time", "date", "dc.date", "dcterms.created", "datepublished", "pubdate")
MODIFIED_KEYS = ("article:modified_time", "last-modified", "dcterms.modified", "datemodified")
AUTHOR_KEYS = ("author", "article:author", "dc.creator")
_STANDARD = frozenset(DATE_KEYS + MODIFIED_KEYS + AUTHOR_KEYS + ("title", "og:title"))
_CONVENTIONAL = re.compile(r"[a-z][a-z0-9_]*(?:[:.\-][a-z0-9_]+)*")
_LIST_KEYS = frozenset(("keywords", "news_keywords", "article:tag"))
_JSONLD_TYPES = ("Article", "NewsArticle", "TechArticle", "BlogPosting", "WebPage", "Product", "Report", "Event")


def parse_date(value: object, notes: list[str] | None = None) -> datetime | None:
    """A page date (ISO 8601, RFC 2822, "14 March 2025"...); an unreadable one is noted (crawler.dates)."""
    return dates.parse_or_note(value, notes)


def meta_tags(tree: HtmlElement) -> dict[str, list[str]]:
    """Every ``<meta name|property|itemprop content>`` (lower-cased key → values in page order)."""
    out: dict[str, list[str]] = {}
    for el in tree.iter("meta"):
        key = (el.get("name") or el.get("property") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content is not None and content.strip():
            out.setdefault(key, []).append(content.strip())
    return out


def meta_metadata(meta: dict[str, list[str]]) -> JSONObject:
    """Metadata from meta tags: every non-rendering, non-standard tag; keyword lists split on commas."""
    out: JSONObject = {}
    for key, values in meta.items():
        if key in IGNORED_META or key in _STANDARD:
            continue
        # conventional namespaced names (og:title, dc.date, twitter:card) are normalised quietly; any other
        # name goes on as the page wrote it, so the fields pipeline reports its renaming or rejection
        name = normalise_name(key) if _CONVENTIONAL.fullmatch(key) else key
        if not name or name in out:
            continue
        if key in _LIST_KEYS:
            out[name] = [k.strip() for v in values for k in v.split(",") if k.strip()]
        else:
            out[name] = values[0] if len(values) == 1 else values
    return out


def _objects(data: JSONData) -> list[JSONObject]:
    if isinstance(data, list):
        return [o for d in data for o in _objects(d)]
    if isinstance(data, dict):
        return [data, *_objects(data.get("@graph", []))]
    return []


def _name(value: JSONData) -> str | None:
    if isinstance(value, list):
        names = [n for v in value if (n := _name(v))]
        return ", ".join(names) or None
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None


def jsonld(tree: HtmlElement, notes: list[str]) -> JSONObject:
    """The page's main schema.org object (the first of a content type, else the first object), or {}."""
    found: list[JSONObject] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            found += _objects(json.loads(script.text or ""))
        except ValueError as exc:
            notes.append(f"JSON-LD block ignored: not valid JSON ({exc})")
    types = [(o, o.get("@type")) for o in found]
    for obj, kind in types:
        kinds = kind if isinstance(kind, list) else [kind]
        if any(k in _JSONLD_TYPES for k in kinds):
            return obj
    return found[0] if found else {}


def jsonld_metadata(obj: JSONObject) -> JSONObject:
    """Metadata from a JSON-LD object (prefixed ``jsonld_`` except keywords)."""
    out: JSONObject = {}
    kind = obj.get("@type")
    if kind:
        out["jsonld_type"] = kind if isinstance(kind, str) else [str(k) for k in kind]
    keywords = obj.get("keywords")
    if isinstance(keywords, str):
        out["keywords"] = [k.strip() for k in keywords.split(",") if k.strip()]
    elif isinstance(keywords, list):
        out["keywords"] = [str(k).strip() for k in keywords if str(k).strip()]
    for key in ("headline", "description", "articleSection", "genre", "about"):
        value = obj.get(key)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out[f"jsonld_{re.sub(r'(?<!^)(?=[A-Z])', '_', key).lower()}"] = value
    if publisher := _name(obj.get("publisher")):
        out["publisher"] = publisher
    return out
