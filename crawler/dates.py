"""Dates as CMS pages and sitemaps write them → ``datetime``, and a named count of those that cannot be read.

ISO 8601 is tried first (the common case, and exact); then RFC 2822 (``Fri, 14 Mar 2025 09:30:00 +0000``,
HTTP headers and feeds) with the standard library; then python-dateutil's parser for the rest of what
people write (``14 March 2025``, ``March 14, 2025``, ``2025/03/14 09:30``). dateutil fills missing parts
from a default, so a string without a four-digit year (``3``, ``May``) would become a date of this year:
those are refused, as are years outside 1900-2200. A value that is present but unreadable is never
silently ignored: callers add an ``invalid date`` note to the item and the ``pushcrawl/dates/invalid``
counter (shown in the run report's counts by name).
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

INVALID_STAT = "pushcrawl/dates/invalid"
NOTE_PREFIX = "invalid date"
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


class InvalidDate(ValueError):
    """A date value is present but cannot be read."""


def parse(value: str) -> datetime:
    """Read one date; raises InvalidDate with the reason."""
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    year = _YEAR.search(text)
    if year is None or not 1900 <= int(year.group(1)) <= 2200:
        raise InvalidDate(f"{value!r} has no year between 1900 and 2200")
    try:
        return dateutil_parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise InvalidDate(f"{value!r} is not a date ({exc})") from None


def parse_or_note(value: object, notes: list[str] | None = None) -> datetime | None:
    """None for an absent value; for an unreadable one, None and a note (counted by ``count_invalid``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse(value)
    except InvalidDate as exc:
        if notes is not None:
            notes.append(f"{NOTE_PREFIX}: {exc}; value not used")
        return None


def count_invalid(notes: list[str]) -> int:
    return sum(1 for note in notes if note.startswith(NOTE_PREFIX))
