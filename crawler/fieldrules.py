"""settings.yaml models for field declarations, field mapping rules and per-site extraction.

Shape (``field_defaults:`` at the top level has the same shape as a site's ``fields:``)::

    fields:
      declare:                       # the index fields this site fills (checked before pushing, `fields sync`)
        taxonomy: {type: string, facet: true}
        keywords: {type: string, multi_value: true, facet: true}
        year: integer                # short form: just the type
      rules:                         # applied in order, after field_defaults.rules; each rule has one operation
        - rename: {category: taxonomy}
        - copy: {title: sorttitle}
        - constant: {source_system: intranet}
        - template: {path_key: "{taxonomy}/{slug}"}
        - coerce: {year: integer, tags: "list[string]"}
        - transform: {keywords: [lowercase, {split: ","}, strip, unique]}
        - drop: [robots, "og_*"]

Everything is checked when the settings load (unknown operation or transform, bad regular expression,
malformed template, invalid field name), so errors name ``sites.<site>.fields.rules[i]...``.
"""

from __future__ import annotations

import re
import string
from typing import Literal

from anyascii import anyascii
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from crawler.jsontypes import JSONObject
from crawler.wire.body import RESERVED_KEYS

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_INVALID_CHARS = re.compile(r"[^a-z0-9_]+")
SCALAR_TYPES = ("string", "integer", "float", "boolean", "date")
#: settings type → Coveo field type (booleans are stored as strings "true"/"false" by the index)
INDEX_TYPES = {"string": "STRING", "integer": "LONG", "float": "DOUBLE", "boolean": "STRING", "date": "DATE"}
_TYPE = re.compile(r"^(?:list\[(string|integer|float|boolean|date)\]|(string|integer|float|boolean|date|list))$")
SIMPLE_TRANSFORMS = ("lowercase", "uppercase", "strip", "strip_html", "unique", "first", "collapse_whitespace")
ARG_TRANSFORMS = ("split", "join", "regex_extract", "regex_replace")


def normalise_name(name: str) -> str:
    """The field-name form of ``name`` (lower-case ``^[a-z][a-z0-9_]*$``, docs/push-api-contract.md, "Fields");
    '' when impossible.

    Letters are transliterated first (``déjà-vu`` → ``deja_vu``, ``Straße`` → ``strasse``) so a name keeps
    its meaning instead of losing every non-ASCII letter.
    """
    candidate = re.sub(r"_+", "_", _INVALID_CHARS.sub("_", anyascii(name).strip().lower())).strip("_")
    if candidate and not candidate[0].isalpha():
        candidate = f"f_{candidate}"
    return candidate if FIELD_NAME.match(candidate) else ""


def _source_name(value: str) -> str:
    name = normalise_name(value)
    if not name:
        raise ValueError(f"{value!r} cannot be made a field name (use letters, digits and '_')")
    return name


def _target_name(value: str) -> str:
    if value.lower() in RESERVED_KEYS:
        raise ValueError(f"{value!r} is a reserved Push API key and cannot be a field")
    if not FIELD_NAME.match(value):
        hint = normalise_name(value)
        raise ValueError(
            f"{value!r} is not a valid field name: lower-case letters, digits and '_', starting with a letter"
            + (f" (e.g. {hint!r})" if hint else "")
        )
    return value


def parse_type(value: str) -> tuple[str, bool]:
    """``"list[integer]"`` → ("integer", True); ``"list"`` → ("string", True)."""
    m = _TYPE.match(value.strip())
    if not m:
        raise ValueError(f"a type among {', '.join(SCALAR_TYPES)}, 'list' or 'list[TYPE]' (got {value!r})")
    if m.group(1):
        return m.group(1), True
    return ("string", True) if m.group(2) == "list" else (m.group(2), False)


def template_keys(template: str) -> list[str]:
    """Placeholder names of a ``str.format`` template; ValueError for malformed or positional ones."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template {template!r} is malformed: {exc}") from None
    keys = []
    for _, name, _, _ in parts:
        if name is None:
            continue
        if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(
                f"template {template!r}: placeholder {{{name}}} must be a field name such as {{category}}"
                " (no positions, attributes or indexes)"
            )
        keys.append(name.lower())
    return keys


def _compile(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from None
    return pattern


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldDeclaration(_Model):
    """One index field: its type and how the index uses it (``pushcrawl fields sync`` creates it)."""

    type: Literal["string", "integer", "float", "boolean", "date"] = "string"
    facet: bool = False
    multi_value: bool = False
    sort: bool = False
    free_text: bool = False  # searchable by words without naming the field

    def index_spec(self, name: str) -> JSONObject:
        """The Field API body (Coveo FieldModel subset)."""
        return {
            "name": name,
            "type": INDEX_TYPES[self.type],
            "facet": self.facet and not self.multi_value,
            "multiValueFacet": self.facet and self.multi_value,
            "sort": self.sort,
            "includeInQuery": True,
            "includeInResults": True,
            "useCacheForComputedFacet": False,
            "mergeWithLexicon": self.free_text,
            "description": "declared in settings.yaml (pushcrawl)",
        }


class RegexReplace(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    pattern: str
    replace: str = Field("", alias="with")

    @field_validator("pattern")
    @classmethod
    def _check(cls, value: str) -> str:
        return _compile(value)


class Step(_Model):
    """One transform step: a bare name (``lowercase``) or a one-key mapping (``{split: ","}``)."""

    op: str
    arg: str | RegexReplace | None = None

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: object) -> object:
        known = ", ".join((*SIMPLE_TRANSFORMS, *ARG_TRANSFORMS))
        if isinstance(data, str):
            if data in SIMPLE_TRANSFORMS:
                return {"op": data}
            if data in ARG_TRANSFORMS:
                raise ValueError(f"transform {data!r} needs an argument, e.g. {{{data}: ...}}")
            raise ValueError(f"unknown transform {data!r} (known: {known})")
        if isinstance(data, dict) and len(data) == 1:
            op, arg = next(iter(data.items()))
            if op in SIMPLE_TRANSFORMS and arg in (None, True):
                return {"op": op}
            if op not in ARG_TRANSFORMS:
                raise ValueError(f"unknown transform {op!r} (known: {known})")
            if op == "regex_replace":
                arg = RegexReplace.model_validate(arg)
            elif not isinstance(arg, str):
                raise ValueError(f"transform {op!r} takes a string, e.g. {{{op}: ','}} (got {arg!r})")
            elif op == "regex_extract":
                _compile(arg)
            return {"op": op, "arg": arg}
        if isinstance(data, dict) and set(data) <= {"op", "arg"}:
            return data
        raise ValueError(f"a transform name or a one-key mapping like {{split: ','}} (got {data!r})")

    @model_serializer
    def _short(self) -> str | JSONObject:
        # back to the settings.yaml spelling, for `pushcrawl check` and error messages
        if self.arg is None:
            return self.op
        arg = self.arg.model_dump(by_alias=True) if isinstance(self.arg, BaseModel) else self.arg
        return {self.op: arg}


OPERATIONS = ("rename", "copy", "constant", "template", "coerce", "transform", "drop")


class Rule(_Model):
    """One mapping rule: exactly one operation key."""

    rename: dict[str, str] | None = None
    copy_: dict[str, str] | None = Field(None, alias="copy")
    constant: JSONObject | None = None
    template: dict[str, str] | None = None
    coerce: dict[str, str] | None = None
    transform: dict[str, list[Step]] | None = None
    drop: list[str] | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _one_operation(cls, data: object) -> object:
        if not isinstance(data, dict):
            raise ValueError(f"a mapping with one operation ({', '.join(OPERATIONS)}); got {data!r}")
        unknown = [k for k in data if k not in OPERATIONS]
        if unknown:
            raise ValueError(f"unknown rule operation {unknown[0]!r} (known: {', '.join(OPERATIONS)})")
        if len(data) != 1:
            raise ValueError(f"one operation per rule (got {', '.join(data)}); write them as separate rules")
        return data

    @field_validator("rename", "copy_")
    @classmethod
    def _pairs(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        return {_source_name(k): _target_name(v) for k, v in value.items()}

    @field_validator("constant")
    @classmethod
    def _constant(cls, value: JSONObject | None) -> JSONObject | None:
        if value is None:
            return None
        for k, v in value.items():
            scalars = v if isinstance(v, list) else [v]
            if not all(isinstance(x, str | int | float | bool) for x in scalars):
                raise ValueError(f"constant {k!r}: a string, number, boolean or list of those (got {v!r})")
        return {_target_name(k): v for k, v in value.items()}

    @field_validator("template")
    @classmethod
    def _template(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        for tmpl in value.values():
            template_keys(tmpl)
        return {_target_name(k): v for k, v in value.items()}

    @field_validator("coerce")
    @classmethod
    def _coerce(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return None
        for t in value.values():
            parse_type(t)
        return {_source_name(k): t for k, t in value.items()}

    @field_validator("transform")
    @classmethod
    def _transform(cls, value: dict[str, list[Step]] | None) -> dict[str, list[Step]] | None:
        return None if value is None else {_source_name(k): v for k, v in value.items()}

    @field_validator("drop")
    @classmethod
    def _drop(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [v.strip().lower() for v in value if v.strip()]

    def operation(self) -> str:
        return next(op for op in OPERATIONS if getattr(self, "copy_" if op == "copy" else op) is not None)

    @model_serializer
    def _short(self) -> JSONObject:
        # back to the settings.yaml spelling (one operation key), for `pushcrawl check`
        op = self.operation()
        value = getattr(self, "copy_" if op == "copy" else op)
        if op == "transform":
            value = {name: [step._short() for step in steps] for name, steps in value.items()}
        return {op: value}


def _declaration(value: object) -> object:
    if isinstance(value, str):
        scalar, multi = parse_type(value)
        return {"type": scalar, "multi_value": multi}
    return value


class FieldsConfig(_Model):
    """A site's ``fields:`` (or the top-level ``field_defaults:``): declarations and mapping rules."""

    declare: dict[str, FieldDeclaration] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    @field_validator("declare", mode="before")
    @classmethod
    def _declare(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {_target_name(str(k)): _declaration(v) for k, v in value.items()}


class Selector(_Model):
    """Where on the page a field's value is; exactly one of css or xpath."""

    css: str | None = None
    xpath: str | None = None
    multi_value: bool = False  # keep every match (default: the first)

    @model_validator(mode="after")
    def _one(self) -> Selector:
        if (self.css is None) == (self.xpath is None):
            raise ValueError("exactly one of 'css' or 'xpath'")
        from parsel import Selector as Probe  # parsel ships with Scrapy

        probe = Probe(text="<html></html>")
        try:
            probe.css(self.css) if self.css is not None else probe.xpath(self.xpath or "")
        except Exception as exc:  # parsel raises several types for bad expressions
            raise ValueError(f"bad selector {self.css or self.xpath!r}: {exc}") from None
        return self


class ExtractConfig(_Model):
    """A site's ``extract:``: how pages become text and metadata."""

    main_content: Literal["auto", "semantic", "trafilatura", "whole_page"] = "auto"
    detect_language: bool = True
    # the candidates of detection (ISO 639-1 codes); empty: the ~97 languages the model knows
    languages: list[str] = Field(default_factory=list)
    selectors: dict[str, Selector] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        codes = sorted({code.strip().lower() for code in value})
        if codes:
            from pipelines.language import identifier  # loads the model: only when the setting is used

            identifier(tuple(codes))  # ValueError names the unknown codes
        return codes

    @field_validator("selectors", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        return {_target_name(str(k)): v for k, v in value.items()} if isinstance(value, dict) else value
