"""JSON on the local Push API's per-item paths (the apply of each pushed item, the search indexer): msgspec,
with the standard library's json for what msgspec refuses.

Both paths run under the server's GIL, beside each other and the HTTP handling, so their Python time is
ingest time: msgspec encodes an item's fields in ~0.4 us where json.dumps takes ~3.7, its permission levels in
~0.6 where json.dumps takes ~4.8, and reads a stored item in about half of json.loads' time (bench/RESULTS.md).
The texts differ from json.dumps' only in spacing and in non-ASCII characters written as themselves, not
``\\u`` escapes: the same JSON to every reader (json.loads, SQLite's JSON functions, tantivy).

The one real difference, a non-finite float (json.dumps writes ``NaN``, msgspec ``null``), cannot reach them:
pushed JSON with one is refused (validate.not_a_number), and the index documents hold no floats.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_DECODER = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder()


# Any: as json.loads; the caller knows what its text holds (an item's stored fields: an object)
def decode(text: str) -> Any:
    """``json.loads``, faster; what msgspec refuses (``NaN``, written by json.dumps) is read by json.loads."""
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError:
        return json.loads(text)


def encode(value: object) -> str:
    """``json.dumps``, faster; what msgspec cannot write (a lone surrogate in a string) goes through json.dumps."""
    try:
        return _ENCODER.encode(value).decode()
    except (TypeError, ValueError, OverflowError, msgspec.EncodeError):
        return json.dumps(value)
