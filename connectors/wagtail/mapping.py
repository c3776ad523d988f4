"""Wagtail API v2 objects → Document items (pure: no network, testable from saved samples).

A page's body is every rich-text string field and every StreamField (a list of ``{type, value, id}``
blocks), joined in field order; short scalar fields go to metadata under their own names. ``page_path`` is
the page's place in the tree: the path of its ``html_url`` (Wagtail URLs are the slugs from the site root).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from crawler.jsontypes import JSONData, JSONObject
from crawler.model import Document, MetadataValue

_TAG = re.compile(r"<[a-zA-Z][^>]*>")
#: item keys that are never body or metadata
_SKIP = {"id", "meta", "title"}
_LONG_TEXT = 300  # plain strings longer than this are content, not a field value


def parse_time(value: object) -> datetime | None:
    """Wagtail timestamps (``…Z`` or ``…+02:00``) → aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def cursor_value(when: datetime) -> str:
    """A cursor string that sorts like the time it holds (fixed width, UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def published_at(item: JSONObject) -> datetime | None:
    """The newest publication time the API exposes for a page (last_published_at needs a custom API view)."""
    meta = item.get("meta") or {}
    return parse_time(meta.get("last_published_at")) or parse_time(meta.get("first_published_at"))


def page_url(item: JSONObject, base_url: str) -> str:
    """A page's document id: its public URL, or its API URL when the page is not routable."""
    meta = item.get("meta") or {}
    url = meta.get("html_url") or meta.get("detail_url") or f"pages/{item.get('id')}/"
    return urljoin(base_url.rstrip("/") + "/", str(url))


def _stream_html(blocks: list[JSONData]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        value = block.get("value") if isinstance(block, dict) else block
        if isinstance(value, str):
            out.append(value if _TAG.search(value) else f"<p>{html.escape(value)}</p>")
        elif isinstance(value, list):
            out.extend(_stream_html(value))
        elif isinstance(value, dict):  # StructBlock: its string parts, in order
            out.extend(_stream_html([{"value": v} for v in value.values()]))
    return out


def _is_stream(value: object) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(b, dict) and "type" in b and "value" in b for b in value)
    )


def _names(value: list[JSONData]) -> list[str]:
    """Tag lists and related snippets (``[{..., "name": ...}]``) → their names."""
    names = [v if isinstance(v, str) else v.get("name") or v.get("title") for v in value if v]
    return [str(n) for n in names if n]


def page_document(item: JSONObject, base_url: str, body_fields: list[str] | None = None) -> Document:
    meta = item.get("meta") or {}
    parts: list[str] = []
    metadata: dict[str, MetadataValue] = {}
    for key, value in item.items():
        if key in _SKIP or value is None or value == "":
            continue
        wanted_body = key in body_fields if body_fields else None
        if _is_stream(value) and wanted_body is not False:
            parts.extend(_stream_html(value))
        elif isinstance(value, str) and (
            wanted_body or (wanted_body is None and (_TAG.search(value) or len(value) > _LONG_TEXT))
        ):
            parts.append(value if _TAG.search(value) else f"<p>{html.escape(value)}</p>")
        elif isinstance(value, bool | int | float | str):
            metadata[key] = value
        elif isinstance(value, list) and (names := _names(value)):
            # ignore: a list[str] is a valid list[Scalar] value; list invariance refuses it
            metadata[key] = names  # type: ignore[assignment]
    url = page_url(item, base_url)
    metadata.update(
        {
            "page_type": str(meta.get("type", "")),
            "page_path": urlsplit(url).path or "/",
            "slug": str(meta.get("slug", "")),
            "wagtail_id": int(item.get("id", 0)),
        }
    )
    parent = meta.get("parent") or {}
    if parent.get("title"):
        metadata["parent_title"] = str(parent["title"])
    for key in ("search_description", "seo_title"):
        if meta.get(key):
            metadata[key] = str(meta[key])
    authors = metadata.pop("authors", None) or metadata.pop("author", None)
    return Document(
        document_id=url,
        clickable_uri=url,
        title=str(item.get("title") or meta.get("seo_title") or url),
        author=", ".join(map(str, authors)) if isinstance(authors, list) else (str(authors) if authors else None),
        date=parse_time(meta.get("first_published_at")),
        modified=published_at(item),
        language=meta.get("locale") or None,
        html="\n".join(parts) or f"<p>{html.escape(str(item.get('title', '')))}</p>",
        metadata=metadata,
    )


def asset_url(item: JSONObject, base_url: str) -> str | None:
    """An image's or document's public download URL (absolute), or None when the API hides it."""
    url = (item.get("meta") or {}).get("download_url")
    return urljoin(base_url.rstrip("/") + "/", url) if url else None


def asset_document(item: JSONObject, kind: str, url: str, body: bytes) -> Document:
    """An image or document file as a binary item; ``kind`` is ``image`` or ``document``."""
    meta = item.get("meta") or {}
    metadata: dict[str, MetadataValue] = {"asset_type": kind, "wagtail_id": int(item.get("id", 0))}
    if meta.get("tags"):
        metadata["tags"] = [str(t) for t in meta["tags"]]
    for key in ("width", "height"):
        if isinstance(item.get(key), int):
            metadata[key] = item[key]
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return Document(
        document_id=url,
        clickable_uri=url,
        title=str(item.get("title") or PurePosixPath(urlsplit(url).path).name),
        date=parse_time(item.get("created_at")),
        binary=body,
        file_extension=suffix or None,
        metadata=metadata,
    )
