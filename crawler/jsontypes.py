"""JSON's types, named once for the three packages.

JSON is dynamic by nature: a Push API answer, a CMS's REST body, a batch file read back, a run report loaded
from disk arrive as whatever ``json.loads`` made of them (typeshed itself types that ``Any``), and their shape
is only known once read. Code that *builds* JSON knows its values; code that *reads* it checks what it reads
(``isinstance``, ``.get`` with defaults, pydantic models at the edges). These aliases say which is which, so a
bare ``Any`` elsewhere in the packages stands out and must name its reason (tests/test_typing_bar.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

#: any JSON value, fully typed (recursive): what ``json.dumps`` accepts without a ``default=``. Use it where a
#: value is only passed on (a request body) or narrowed by ``isinstance``. Sequence and Mapping, not list and
#: dict: they are covariant, so a ``list[dict[str, str]]`` our code built is a JSONValue too.
JSONValue: TypeAlias = "str | int | float | bool | Sequence[JSONValue] | Mapping[str, JSONValue] | None"

#: a JSON object as sent, received or reported. Any: values are read by key along shapes that the Push API
#: contract and each CMS's API fix; a recursive union would force an ``isinstance`` at every nested read, and
#: ``dict`` is invariant, so a ``dict[str, list[str]]`` built by our code would not be a ``dict[str, JSONValue]``.
JSONObject: TypeAlias = dict[str, Any]

#: a decoded JSON document of unknown shape, exactly what ``json.loads`` returns. Any: typeshed types
#: ``json.loads`` as ``Any``; readers narrow it (``isinstance(data, dict)``) before they index it.
JSONData: TypeAlias = Any
