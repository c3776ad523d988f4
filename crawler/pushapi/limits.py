"""Moved to crawler.wire.limits (the wire format lives apart from the HTTP client); kept for existing imports."""

from crawler.wire.limits import (
    CONTAINER_LIMIT,
    INLINE_LIMIT,
    MAX_PERMISSIONS,
    Prepared,
    Rejected,
    prepare,
    with_file_id,
)

__all__ = ["CONTAINER_LIMIT", "INLINE_LIMIT", "MAX_PERMISSIONS", "Prepared", "Rejected", "prepare", "with_file_id"]
