"""What ``--dry-run`` prints for a body: the exact JSON, except binary content, shown as its size and hash.

A PDF's ``compressedBinaryData`` is megabytes of base64 that no one reads; its size and SHA-256 say what would
be sent and let two dry runs be compared. Everything else is printed as it would be pushed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from crawler.jsontypes import JSONObject

BINARY_KEYS = ("compressedBinaryData",)


def printable(body: JSONObject) -> JSONObject:
    out = dict(body)
    for key in BINARY_KEYS:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = describe(value)
    return out


def describe(b64: str) -> str:
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return f"<{len(b64):,} characters, not valid base64>"
    return f"<binary: {len(raw):,} bytes compressed, sha256 {hashlib.sha256(raw).hexdigest()[:16]}…>"
