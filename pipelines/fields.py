"""Fields pipeline: a Document's standard attributes and metadata → the index fields it will populate.

1. Standard fields are filled from the Document (title, author, clickableuri, date, language, permanentid,
   filetype; the binary's ``fileExtension`` travels as the reserved key).
2. Metadata names are normalised to the field-name rule (lower-cased ``^[a-z][a-z0-9_]*$``,
docs/push-api-contract.md, "Fields");
   a renamed name is noted, a name that cannot be made valid or is a reserved key is rejected (noted,
   counted). Values must be scalars or lists of scalars; dates become ISO-8601 UTC.
3. ``field_defaults.rules`` then the site's ``fields.rules`` run in order (pipelines.rules).
4. Declared fields are coerced to their declared type; when any field is declared, metadata that matches
   no declared or standard field is listed as *collected, not indexed* (it is still sent: the index keeps
   it as metadata, but it is not searchable until a field exists — ``pushcrawl fields sync``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from scrapy.crawler import Crawler

from crawler.config import Settings
from crawler.context import get_context
from crawler.fieldrules import FieldDeclaration
from crawler.fieldrules import normalise_name as _normalise
from crawler.jsontypes import JSONObject
from crawler.model import Document, MetadataValue
from crawler.pushapi.body import RESERVED_KEYS
from pipelines.rules import CompiledRule, Skip, coerce, compile_rules, iso_date

#: fields every index has (Coveo system fields); they are never "collected, not indexed"
STANDARD_FIELDS = frozenset(
    {
        *("title", "author", "date", "clickableuri", "permanentid", "language", "filetype"),
        *("uri", "source", "size", "parentid", "sourcetype", "collection", "urihash"),
    }
)
MAX_NOTES = 50  # per item, so one odd page cannot flood the dry-run output


def normalise_name(name: str) -> str | None:
    """Return a valid field name for ``name`` or None when none can be made (or it is a reserved key)."""
    candidate = _normalise(name)
    return candidate if candidate and candidate not in RESERVED_KEYS else None


def coerce_value(value: object) -> MetadataValue | None:
    """A metadata value the Push API accepts, or None when it has no valid form (objects, nested lists)."""
    if isinstance(value, datetime):
        return iso_date(value)
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple | set):
        items = [coerce_value(v) for v in value]
        if any(v is None or isinstance(v, list) for v in items):
            return None
        return [v for v in items if v is not None and not isinstance(v, list)]
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


def template_context(doc: Document, site: str) -> JSONObject:
    """Values templates may use besides fields: ``{slug}``, ``{path}``, ``{host}``, ``{url}``, ``{site}``."""
    url = doc.clickable_uri or doc.document_id
    parsed = urlparse(url)
    path = unquote(parsed.path)
    return {
        "slug": PurePosixPath(path).stem or parsed.netloc,
        "path": path.strip("/"),
        "host": parsed.netloc,
        "url": url,
        "document_id": doc.document_id,
        "site": site,
    }


@dataclass
class Mapped:
    fields: dict[str, MetadataValue]
    collected_only: list[str]
    notes: list[str]
    renamed: dict[str, str] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    invalid: int = 0
    metadata_names: list[str] = field(default_factory=list)  # every non-standard field sent


class FieldMapper:
    """The mapping of one site, compiled once from settings; ``map()`` is pure (tests call it directly)."""

    def __init__(self, settings: Settings, site: str) -> None:
        cfg = settings.sites[site].fields
        self.site = site
        self.declared: dict[str, FieldDeclaration] = {**settings.field_defaults.declare, **cfg.declare}
        self.rules: list[CompiledRule] = compile_rules(settings.field_defaults.rules, "field_defaults.rules")
        self.rules += compile_rules(cfg.rules, f"sites.{site}.fields.rules")

    def map(self, doc: Document) -> Mapped:
        out = Mapped({}, [], [])
        values: JSONObject = dict(standard_fields(doc))
        for name, value in doc.metadata.items():
            fname = normalise_name(name)
            if not fname:
                out.notes.append(f"metadata {name!r} rejected: no valid field name can be made from it")
                out.rejected.append(name)
                continue
            coerced = coerce_value(value)
            if coerced is None:
                out.notes.append(f"metadata {name!r} rejected: value is not a scalar or list of scalars")
                out.rejected.append(name)
                continue
            if fname != name:
                out.notes.append(f"metadata {name!r} renamed to {fname!r}")
                out.renamed[name] = fname
            if fname in values:
                out.notes.append(f"metadata {name!r} ignored: field {fname!r} already has a value")
                continue
            values[fname] = coerced
        # parsing the URL costs more than the rest of the mapping; most sites have no rules
        context = template_context(doc, self.site) if self.rules else {}
        for rule in self.rules:
            rule.apply(values, context, out.notes.append)
        for name, decl in self.declared.items():
            if name in values:
                try:
                    values[name] = coerce(values[name], f"list[{decl.type}]" if decl.multi_value else decl.type)
                except Skip as why:
                    out.notes.append(f"field {name!r} ({decl.type}): {why}; value not sent")
                    out.invalid += 1
                    del values[name]
        for name, value in list(values.items()):
            if coerce_value(value) is None or value == []:
                del values[name]  # a rule produced nothing usable (None, empty list)
        out.fields = values
        # Provisional: the end of the run compares the metadata sent with the target's real fields
        # (crawler.indexfields); a dry run, which opens no target, keeps this comparison with declarations.
        out.metadata_names = sorted(n for n in values if n not in STANDARD_FIELDS)
        if self.declared:
            out.collected_only = [n for n in out.metadata_names if n not in self.declared]
        del out.notes[MAX_NOTES:]
        return out


class FieldsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        ctx = get_context(crawler)
        self.mapper = FieldMapper(ctx.settings, ctx.site_name)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FieldsPipeline:
        return cls(crawler)

    def process_item(self, item: object) -> object:
        if not isinstance(item, Document):
            return item
        stats = self.crawler.stats
        mapped = self.mapper.map(item)
        item.fields, item.collected_only = mapped.fields, mapped.collected_only
        item.notes.extend(mapped.notes)
        # per-name stats: the run report aggregates them (crawler.report.apply_field_stats)
        if mapped.renamed:
            stats.inc_value("pushcrawl/fields/renamed", len(mapped.renamed))
        if mapped.rejected:
            stats.inc_value("pushcrawl/fields/rejected", len(mapped.rejected))
        for old, new in mapped.renamed.items():
            stats.inc_value(f"pushcrawl/fields/renamed/{old} -> {new}")
        for name in mapped.rejected:
            stats.inc_value(f"pushcrawl/fields/rejected/{name}")
        for name in mapped.collected_only:
            stats.inc_value(f"pushcrawl/fields/collected_only/{name}")
        for name in mapped.metadata_names:
            stats.inc_value(f"pushcrawl/fields/sent/{name}")
        if mapped.invalid:
            stats.inc_value("pushcrawl/fields/invalid_values", mapped.invalid)
        return item
