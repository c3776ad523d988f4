"""Fields pipeline: a Document's standard attributes and metadata → the index fields it will populate.

Metadata names are normalised to the Push API field-name rule (lower-cased, ``^[a-z][a-z0-9_]*$``,
CONTRACT.md §3); a renamed name is noted, a name that cannot be made valid or collides with a reserved key
is rejected (noted, counted). Values must be scalars or lists of scalars; dates become ISO-8601 UTC.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from crawler.model import Document, MetadataValue
from crawler.pushapi.body import RESERVED_KEYS

_VALID = re.compile(r"^[a-z][a-z0-9_]*$")
_INVALID_CHARS = re.compile(r"[^a-z0-9_]+")


def normalise_name(name: str) -> str | None:
    """Return a valid field name for ``name`` or None when none can be made."""
    candidate = _INVALID_CHARS.sub("_", name.strip().lower()).strip("_")
    candidate = re.sub(r"_+", "_", candidate)
    if candidate and not candidate[0].isalpha():
        candidate = f"f_{candidate}"
    if not candidate or not _VALID.match(candidate) or candidate in RESERVED_KEYS:
        return None
    return candidate


def iso_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def coerce_value(value: Any) -> MetadataValue | None:
    """A metadata value the Push API accepts, or None when it has no valid form (objects, nested lists)."""
    if isinstance(value, datetime):
        return iso_date(value)
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | set):
        items = [coerce_value(v) for v in value]
        if any(v is None or isinstance(v, list) for v in items):
            return None
        return [v for v in items if not isinstance(v, list) and v is not None]
    return None


def permanent_id(document_id: str) -> str:
    # The official clients' scheme (md5[:30] + sha1[:30] of the URI), so ids match items they pushed.
    data = document_id.encode("utf-8")
    return hashlib.md5(data).hexdigest()[:30] + hashlib.sha1(data).hexdigest()[:30]


def standard_fields(doc: Document) -> dict[str, MetadataValue]:
    fields: dict[str, MetadataValue] = {
        "clickableuri": doc.clickable_uri or doc.document_id,
        "permanentid": permanent_id(doc.document_id),
    }
    if doc.title:
        fields["title"] = doc.title
    if doc.author:
        fields["author"] = doc.author
    if doc.date:
        fields["date"] = iso_date(doc.date)
    if doc.modified:
        fields["modifieddate"] = iso_date(doc.modified)
    if doc.language:
        fields["language"] = doc.language
    if doc.file_extension:
        fields["filetype"] = doc.file_extension.lstrip(".").lower()
    return fields


class FieldsPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> FieldsPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Document):
            return item
        stats = self.crawler.stats
        fields = standard_fields(item)
        for name, value in item.metadata.items():
            field = normalise_name(name)
            if field is None:
                item.notes.append(f"metadata {name!r} rejected: no valid field name can be made from it")
                stats.inc_value("pushcrawl/fields/rejected")
                continue
            coerced = coerce_value(value)
            if coerced is None:
                item.notes.append(f"metadata {name!r} rejected: value is not a scalar or list of scalars")
                stats.inc_value("pushcrawl/fields/rejected")
                continue
            if field != name:
                item.notes.append(f"metadata {name!r} renamed to {field!r}")
                stats.inc_value("pushcrawl/fields/renamed")
            fields.setdefault(field, coerced)
        item.fields = fields
        return item
