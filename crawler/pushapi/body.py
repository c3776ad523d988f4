"""Moved to crawler.wire.body (the wire format lives apart from the HTTP client); kept for existing imports."""

from crawler.wire.body import (
    INLINE_LIMIT,
    RESERVED_KEYS,
    content_of,
    delete_entry,
    document_body,
    metadata_body,
    permissions_json,
)

__all__ = [
    "INLINE_LIMIT",
    "RESERVED_KEYS",
    "content_of",
    "delete_entry",
    "document_body",
    "metadata_body",
    "permissions_json",
]
