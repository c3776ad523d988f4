"""Query translation for the local Search API: basic ``q`` words to FTS5, ``aq`` field expressions to SQL.

``aq`` supports ``@field==value``, ``@field="value"``, ``@field=value`` (case-insensitive contains),
``@field<>value``/``!=``, ``@field>n``/``<``/``>=``/``<=``, ``@field==(a,b)`` lists, and bare ``@field``
(has a value). Words in ``aq`` that are not field expressions are searched like ``q``; ``NOT``/``OR`` are
not supported (terms are ANDed) — enough for a local twin, and documented as such.
"""

from __future__ import annotations

import re
from typing import Any

TERM = re.compile(
    r"@([A-Za-z_][A-Za-z0-9_]*)\s*(==|<>|!=|>=|<=|=|>|<)?\s*"
    r'(\((?:[^()"]|"[^"]*")*\)|"[^"]*"|[^\s()]+)?'
)
WORD = re.compile(r"\w+", re.UNICODE)


def fts_match(text: str) -> str | None:
    """Every word must appear (in title or body); words are quoted so FTS5 syntax cannot be injected."""
    words = WORD.findall(text)
    return " ".join(f'"{w}"' for w in words) or None


def _values(raw: str) -> list[str]:
    if raw.startswith("("):
        return [v.strip().strip('"') for v in re.findall(r'"[^"]*"|[^,()]+', raw[1:-1]) if v.strip()]
    return [raw.strip('"')]


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def aq_sql(aq: str) -> tuple[list[str], list[Any], str]:
    """SQL conditions on ``i.fields`` (with their parameters) and the free words left over."""
    where: list[str] = []
    params: list[Any] = []
    rest = aq
    for m in TERM.finditer(aq):
        rest = rest.replace(m.group(0), " ", 1)
        name, op, raw = m.group(1).lower(), m.group(2), m.group(3)
        path = f'$."{name}"'
        each = f"SELECT value FROM json_each(i.fields, '{path}')"
        if op is None or raw is None:
            where.append(f"json_extract(i.fields, '{path}') IS NOT NULL")
            continue
        values = _values(raw)
        if op in ("==", "=", "<>", "!="):
            # Coveo compares string fields case-insensitively; `=` is the looser "contains" operator.
            if op == "=":
                cond = " OR ".join("lower(value) LIKE ?" for _ in values)
                params.extend(f"%{v.lower()}%" for v in values)
            else:
                cond = " OR ".join("lower(value) = ?" for _ in values)
                params.extend(v.lower() for v in values)
            exists = f"EXISTS ({each} WHERE {cond})"
            where.append(f"NOT {exists}" if op in ("<>", "!=") else exists)
            continue
        num = _number(values[0])
        where.append(f"EXISTS ({each} WHERE value {op} ?)")
        params.append(num if num is not None else values[0])
    return where, params, rest
