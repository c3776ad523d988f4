"""The field mapping engine: apply settings rules (crawler.fieldrules) to one item's name → value dict.

Rules run in order on normalised names (``og:title`` is ``og_title``). A rule that cannot apply to an item
(its source is missing, a template key is absent, a value does not convert) skips that item with a note
naming the rule (``sites.demo.fields.rules[2] (template taxonomy)``); it never fails the run.
"""

from __future__ import annotations

import fnmatch
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from crawler.fieldrules import RegexReplace, Rule, Step, parse_type, template_keys
from crawler.jsontypes import JSONData, JSONObject

Values = JSONObject
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off", ""}


class Skip(Exception):
    """This rule does not apply to this item (the message says why)."""


def iso_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _to_date(value: JSONData) -> str:
    if isinstance(value, datetime):
        return iso_date(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # epoch seconds, or milliseconds when too large to be seconds
        return iso_date(datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC))
    text = str(value).strip()
    try:
        return iso_date(datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-")))
    except ValueError:
        pass
    try:
        return iso_date(parsedate_to_datetime(text))  # RFC 1123 / 2822, e.g. HTTP Last-Modified
    except (TypeError, ValueError, IndexError):
        raise Skip(f"{value!r} is not a date (ISO-8601, RFC 1123 or epoch seconds)") from None


def _to_bool(value: JSONData) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Skip(f"{value!r} is not a boolean (true/false, yes/no, 1/0)")


def _to_int(value: JSONData) -> int:
    try:
        number = float(str(value).strip().replace(",", "")) if not isinstance(value, int | float) else value
    except ValueError:
        raise Skip(f"{value!r} is not an integer") from None
    if isinstance(number, bool) or number != int(number):
        raise Skip(f"{value!r} is not an integer")
    return int(number)


def _to_float(value: JSONData) -> float:
    try:
        return float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise Skip(f"{value!r} is not a number") from None


def _to_str(value: JSONData) -> str:
    if isinstance(value, datetime):
        return iso_date(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


CONVERTERS: dict[str, Callable[[JSONData], JSONData]] = {
    "string": _to_str,
    "integer": _to_int,
    "float": _to_float,
    "boolean": _to_bool,
    "date": _to_date,
}


def coerce(value: JSONData, type_spec: str) -> JSONData:
    """Convert a value (scalar or list) to ``type_spec`` (``integer``, ``list[date]``…); Skip when impossible."""
    scalar, multi = parse_type(type_spec)
    convert = CONVERTERS[scalar]
    if multi:
        items = value if isinstance(value, list) else [value]
        return [convert(v) for v in items if v is not None and v != ""]
    if isinstance(value, list):
        if len(value) != 1:
            raise Skip(f"a single {scalar} was expected, got a list of {len(value)}")
        value = value[0]
    return convert(value)


def _each(value: JSONData, fn: Callable[[str], JSONData]) -> JSONData:
    return [fn(str(v)) for v in value] if isinstance(value, list) else fn(str(value))


def _extract(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text)
    if m is None:
        return None
    return m.group(1) if m.re.groups else m.group(0)


def transform(value: JSONData, step: Step) -> JSONData:
    op, arg = step.op, step.arg
    if op == "lowercase":
        return _each(value, str.lower)
    if op == "uppercase":
        return _each(value, str.upper)
    if op == "strip":
        return _each(value, str.strip)
    if op == "collapse_whitespace":
        return _each(value, lambda s: _SPACE.sub(" ", s).strip())
    if op == "strip_html":
        return _each(value, lambda s: _SPACE.sub(" ", html.unescape(_TAG.sub(" ", s))).strip())
    if op == "unique":
        return list(dict.fromkeys(value)) if isinstance(value, list) else value
    if op == "first":
        return (value[0] if value else None) if isinstance(value, list) else value
    if op == "split":
        parts = value if isinstance(value, list) else [value]
        assert isinstance(arg, str)  # Step's validator gives split, join and regex_extract a string
        return [p for v in parts for p in str(v).split(arg) if p.strip()]
    if op == "join":
        assert isinstance(arg, str)
        return arg.join(str(v) for v in value) if isinstance(value, list) else value
    if op == "regex_extract":
        assert isinstance(arg, str)
        if isinstance(value, list):
            return [x for v in value if (x := _extract(arg, str(v))) is not None]
        return _extract(arg, str(value))
    if op == "regex_replace":
        assert isinstance(arg, RegexReplace)  # and regex_replace its model
        replace = arg
        return _each(value, lambda s: re.sub(replace.pattern, replace.replace, s))
    raise AssertionError(f"transform {op!r} passed validation but has no implementation")


def _template_value(value: JSONData) -> str:
    return ";".join(str(v) for v in value) if isinstance(value, list) else str(value)


@dataclass
class CompiledRule:
    label: str  # "sites.demo.fields.rules[2]"
    rule: Rule

    def apply(self, values: Values, context: Values, note: Callable[[str], None]) -> None:
        op = self.rule.operation()
        # Any: the rule's operation field, whose type depends on ``op`` (Rule's validator keeps the two in step)
        spec: Any = getattr(self.rule, "copy_" if op == "copy" else op)
        if op == "drop":
            for name in [n for n in values if any(fnmatch.fnmatchcase(n, pat) for pat in spec)]:
                del values[name]
            return
        if op == "constant":
            values.update(spec)
            return
        if op == "template":
            for target, tmpl in spec.items():
                scope = {**context, **values}
                missing = [k for k in template_keys(tmpl) if k not in scope or scope[k] in (None, "", [])]
                if missing:
                    note(f"{self.label} (template {target}): key {missing[0]!r} missing; rule skipped")
                    continue
                keys = {k: _template_value(scope[k]) for k in template_keys(tmpl)}
                values[target] = tmpl.format_map(_Lower(keys))
            return
        for source, arg in spec.items():
            if source not in values:
                continue  # a rule about a field this item lacks does nothing (not worth a note per item)
            try:
                if op == "rename":
                    values[arg] = values.pop(source)
                elif op == "copy":
                    values[arg] = values[source]
                elif op == "coerce":
                    values[source] = coerce(values[source], arg)
                elif op == "transform":
                    result = values[source]
                    for step in arg:
                        result = transform(result, step)
                    if result is None or result == []:
                        del values[source]
                    else:
                        values[source] = result
            except Skip as why:
                note(f"{self.label} ({op} {source}): {why}; rule skipped")


class _Lower(dict[str, str]):
    """Placeholders are matched case-insensitively: {Category} reads field 'category'."""

    def __missing__(self, key: str) -> str:
        return self[key.lower()]


def compile_rules(rules: list[Rule], prefix: str) -> list[CompiledRule]:
    return [CompiledRule(f"{prefix}[{i}]", r) for i, r in enumerate(rules)]
