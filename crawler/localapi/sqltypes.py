"""SQLite's value types, named once for the local Push API's hand-written queries."""

from __future__ import annotations

from typing import TypeAlias

#: a value bound to a ``?`` placeholder or read from a column: what sqlite3 adapts with no adapter registered
SQLValue: TypeAlias = str | int | float | bytes | None

#: the parameters of one statement, in placeholder order
SQLParams: TypeAlias = list[SQLValue]
