"""Query translation for the local Search API: ``q`` to words and phrases, ``aq`` field expressions to SQL.

``q`` is free text (Coveo's default, query syntax off): its words and ``"quoted phrases"`` must all match,
anything else in it is ignored. ``aq`` is a subset of Coveo's advanced query syntax, parsed strictly:

- ``@field==value`` (equals, case-insensitive), ``@field="value"`` / ``@field=value`` (contains),
  ``@field<>value`` (differs; ``!=`` too), ``@field==(a,b)`` (any of a list), ``@field`` (has a value);
- ``@field>n``, ``<``, ``>=``, ``<=`` and ``@field==a..b`` (an inclusive range) on numbers, and on dates
  written ``2024/01/31`` or ``2024-01-31`` (compared with date fields stored as epoch ms or ISO text);
- free words and phrases, searched like ``q``; ``AND`` between terms (terms are ANDed anyway).

Anything else — ``OR``, ``NOT``, ``-word``, parentheses, ``$functions()``, ``@f*=``, ``@f~=``, ``@f%=``,
``@f/=`` and stray characters — raises :class:`QuerySyntaxError` naming what is not supported, so the Search
API answers 400 rather than silently matching nothing.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from crawler.localapi.sqltypes import SQLParams

FIELD = re.compile(
    r"@([A-Za-z_][A-Za-z0-9_]*)(?:\s*(==|<>|!=|>=|<=|=|>|<)\s*"
    r'(\((?:[^()"]|"[^"]*")*\)|"[^"]*"|[^\s()"]+))?'
)
PHRASE = re.compile(r'"([^"]*)"')
WORD = re.compile(r"\w+", re.UNICODE)
#: a plain word of ``aq``: letters, digits and the punctuation words carry (e.g. "o'neil", "v1.2", "e-mail")
AQ_WORD = re.compile(r"[\w][\w.'\u2019-]*")
DATE = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$")
UNSUPPORTED_OPS = ("*=", "~=", "%=", "/=")


class QuerySyntaxError(ValueError):
    """Part of a query uses syntax the local Search API does not support."""


@dataclasses.dataclass(frozen=True)
class Condition:
    """One ``@field`` expression of ``aq``: its SQL over ``i.fields`` (always), and what the search index can
    answer directly (fieldterms.py): ``kind`` "exists", "equals" or "differs" (with ``values``), else "sql"."""

    sql: str
    params: SQLParams
    name: str
    kind: str = "sql"
    values: list[str] = dataclasses.field(default_factory=list)


def words(text: str) -> list[tuple[str, bool]]:
    """(word or phrase, is_phrase) of free text: quoted phrases first, then the words outside them."""
    out: list[tuple[str, bool]] = []
    for m in PHRASE.finditer(text):
        inner = WORD.findall(m.group(1))
        if len(inner) > 1:
            out.append((" ".join(inner), True))
        elif inner:
            out.append((inner[0], False))
    out.extend((w, False) for w in WORD.findall(PHRASE.sub(" ", text)))
    return out


def _values(raw: str) -> list[str]:
    if raw.startswith("("):
        return [v.strip().strip('"') for v in re.findall(r'"[^"]*"|[^,()]+', raw[1:-1]) if v.strip()]
    return [raw.strip('"')]


def _scalar(value: str) -> float | str:
    """A number, a date as epoch ms, or the text itself."""
    date = DATE.match(value)
    if date:
        y, m, d = (int(g) for g in date.groups())
        try:
            return datetime(y, m, d, tzinfo=UTC).timestamp() * 1000
        except ValueError:
            raise QuerySyntaxError(f"{value!r} is not a valid date") from None
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")):
        raise QuerySyntaxError(f"{value!r} is not a number that can be compared")
    return number


# A field value as a number: numbers as they are, ISO dates as epoch ms (date fields hold either).
NUMERIC = (
    "(CASE WHEN typeof(value) IN ('integer','real') THEN value ELSE (julianday(value) - 2440587.5) * 86400000.0 END)"
)


def _field(name: str, op: str | None, raw: str | None) -> Condition:
    sql, params = _field_sql(name, op, raw)
    if op is None or raw is None:
        return Condition(sql, params, name, "exists")
    values = _values(raw)
    if op == "==" and not (len(values) == 1 and ".." in values[0]):
        return Condition(sql, params, name, "equals", values)
    if op in ("<>", "!="):
        return Condition(sql, params, name, "differs", values)
    return Condition(sql, params, name)


def _field_sql(name: str, op: str | None, raw: str | None) -> tuple[str, SQLParams]:
    path = f'$."{name}"'
    each = f"SELECT value FROM json_each(i.fields, '{path}')"
    if op is None or raw is None:
        return f"json_extract(i.fields, '{path}') IS NOT NULL", []
    values = _values(raw)
    if not values:
        raise QuerySyntaxError(f"@{name}{op}{raw}: the list is empty")
    if op == "==" and len(values) == 1 and ".." in values[0]:
        low, _, high = values[0].partition("..")
        lo, hi = _scalar(low), _scalar(high)
        if isinstance(lo, str) or isinstance(hi, str):
            raise QuerySyntaxError(f"@{name}=={values[0]}: a range needs numbers or dates on both sides")
        return f"EXISTS ({each} WHERE {NUMERIC} BETWEEN ? AND ?)", [lo, hi]
    if op in ("==", "=", "<>", "!="):
        # Coveo compares string fields case-insensitively; `=` is the looser "contains" operator.
        if op == "=":
            cond = " OR ".join("lower(value) LIKE ?" for _ in values)
            params: SQLParams = [f"%{v.lower()}%" for v in values]
        else:
            cond = " OR ".join("lower(value) = ?" for _ in values)
            params = [v.lower() for v in values]
        exists = f"EXISTS ({each} WHERE {cond})"
        return (f"NOT {exists}" if op in ("<>", "!=") else exists), params
    if len(values) > 1:
        raise QuerySyntaxError(f"@{name}{op}{raw}: a comparison takes one value, not a list")
    value = _scalar(values[0])
    if isinstance(value, str):
        return f"EXISTS ({each} WHERE value {op} ?)", [value]
    return f"EXISTS ({each} WHERE {NUMERIC} {op} ?)", [value]


def parse_aq(aq: str) -> tuple[list[str], SQLParams, list[tuple[str, bool]]]:
    """SQL conditions on ``i.fields`` (with their parameters) and the free words and phrases of ``aq``."""
    conditions, free = parse_conditions(aq)
    return [c.sql for c in conditions], [p for c in conditions for p in c.params], free


def parse_conditions(aq: str) -> tuple[list[Condition], list[tuple[str, bool]]]:
    """The ``@field`` conditions of ``aq`` and its free words and phrases; QuerySyntaxError for the rest."""
    conditions: list[Condition] = []
    free: list[tuple[str, bool]] = []
    pos = 0
    while pos < len(aq):
        if aq[pos].isspace():
            pos += 1
            continue
        field = FIELD.match(aq, pos)
        if field:
            after = aq[field.end() : field.end() + 2]
            if field.group(2) is None and any(after.lstrip().startswith(op) for op in UNSUPPORTED_OPS):
                raise QuerySyntaxError(f"the operator {after.strip()!r} after @{field.group(1)} is not supported")
            conditions.append(_field(field.group(1).lower(), field.group(2), field.group(3)))
            pos = field.end()
            continue
        phrase = PHRASE.match(aq, pos)
        if phrase:
            free.extend(words(phrase.group(0)))
            pos = phrase.end()
            continue
        word = AQ_WORD.match(aq, pos)
        if word and word.group(0) not in ("OR", "NOT", "NEAR"):
            if word.group(0) != "AND":
                free.extend((w, False) for w in WORD.findall(word.group(0)))
            pos = word.end()
            continue
        token = word.group(0) if word else aq[pos : pos + 12].split()[0]
        raise QuerySyntaxError(
            f"{token!r} (position {pos}) is not supported advanced query syntax; the local Search API supports"
            " @field==value, @field=value, @field<>value, @field==(a,b), @field>n (<, >=, <=), @field==a..b,"
            ' @field, words and "phrases" (all ANDed)'
        )
    return conditions, free
