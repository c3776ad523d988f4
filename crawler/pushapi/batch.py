"""Moved to crawler.wire.batch (the wire format lives apart from the HTTP client); kept for existing imports."""

from crawler.wire.batch import IDENTITY_SECTIONS, ITEM_SECTIONS, SpooledBatch

__all__ = ["IDENTITY_SECTIONS", "ITEM_SECTIONS", "SpooledBatch"]
