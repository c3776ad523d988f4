"""A batch file read entry by entry, so applying a batch holds one chunk of entries in memory, not all of them.

``json.loads`` of a 5,000-item batch (12 MB of JSON) builds every entry at once: about twice the file again in
Python objects, on the worker thread, for every batch (bench/memory.py measured it in the peak RSS of a crawl
into the embedded target). ``scan`` checks the whole file first, exactly as ``validate.parse_json`` does
(valid JSON, no duplicate key, whatever the case, at any depth), and returns where each entry starts;
``entry`` decodes one of them when it is applied. Nothing is applied from a file that does not parse.

The top level must be an object; ``addOrUpdate`` and ``delete`` (any case) are its item arrays. A section
whose value is not an array is decoded whole and iterated as ``validate`` would (each element then fails
or passes its own validation), so the outcome is the same as reading the file with ``parse_json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from crawler.jsontypes import JSONData
from crawler.localapi import validate
from crawler.localapi.apierror import bad_json

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(object_pairs_hook=validate._no_duplicates, parse_constant=validate.not_a_number)
# ``entry`` decodes text ``scan`` has already checked for duplicate keys: the C decoder builds the same dicts
# without a Python call per object (the hook was about a fifth of applying a batch)
_CHECKED = json.JSONDecoder(parse_constant=validate.not_a_number)
SECTIONS = ("addorupdate", "delete")


@dataclass(frozen=True)
class Entry:
    add: bool  # addOrUpdate (True) or delete
    start: int  # where it starts in the text, or -1 when ``value`` holds it already
    value: JSONData = None


class NotAnObject(ValueError):
    """The top level is valid JSON but not an object (``parse_json`` + ``ci`` raised AttributeError there)."""


def _skip(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]  # [ \t\n\r]* always matches


def _expect(text: str, pos: int, char: str) -> int:
    if text[pos : pos + 1] != char:
        raise bad_json(f"The body is not valid JSON: expected {char!r} at char {pos}")
    return pos + 1


def scan(raw: bytes) -> tuple[str, list[Entry]]:
    """The decoded text and its entries, adds first then deletes (the order ``ItemApplier.batch`` applies)."""
    try:
        text = raw.decode("utf-8-sig")
        return text, _scan(text)
    except UnicodeDecodeError as exc:
        raise bad_json(f"The body is not valid JSON: {exc}") from None
    except (json.JSONDecodeError, IndexError) as exc:
        raise bad_json(f"The body is not valid JSON: {exc}") from None


def _scan(text: str) -> list[Entry]:
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "{":
        _DECODER.raw_decode(text, pos)  # raises if it is not JSON at all
        if _skip(text, _DECODER.raw_decode(text, pos)[1]) != len(text):
            raise bad_json("The body is not valid JSON: extra data after the value")
        raise NotAnObject("the batch file is not a JSON object")
    found: dict[str, list[Entry]] = {name: [] for name in SECTIONS}
    seen: set[str] = set()
    pos = _skip(text, pos + 1)
    while text[pos : pos + 1] != "}":
        if seen:
            pos = _skip(text, _expect(text, pos, ","))
        key, pos = _DECODER.raw_decode(text, pos)
        if not isinstance(key, str):
            raise bad_json(f"The body is not valid JSON: a key must be a string (char {pos})")
        if key.lower() in seen:
            raise bad_json(f"The key '{key}' appears more than once (keys are case-insensitive).")
        seen.add(key.lower())
        pos = _skip(text, _expect(text, _skip(text, pos), ":"))
        section = found.get(key.lower())
        if section is not None and text[pos : pos + 1] == "[":
            pos = _array(text, pos, section, key.lower() == "addorupdate")
        else:
            value, pos = _DECODER.raw_decode(text, pos)
            for element in (value or []) if section is not None else ():
                # ignore: section is not None here (the loop is empty otherwise), which mypy cannot follow
                section.append(Entry(key.lower() == "addorupdate", -1, element))  # type: ignore[union-attr]
        pos = _skip(text, pos)
    if _skip(text, pos + 1) != len(text):
        raise bad_json("The body is not valid JSON: extra data after the object")
    return found["addorupdate"] + found["delete"]


def _array(text: str, pos: int, into: list[Entry], add: bool) -> int:
    """Check each element of the array at ``pos`` (decoded and dropped at once) and note where it starts."""
    pos = _skip(text, pos + 1)
    first = True
    while text[pos : pos + 1] != "]":
        if not first:
            pos = _skip(text, _expect(text, pos, ","))
        first = False
        into.append(Entry(add, pos))
        pos = _skip(text, _DECODER.raw_decode(text, pos)[1])
    return pos + 1


def entry(text: str, item: Entry) -> JSONData:
    """One entry's JSON value (decoded again from the text: it parsed, duplicate keys checked, in ``scan``)."""
    return item.value if item.start < 0 else _CHECKED.raw_decode(text, item.start)[0]
