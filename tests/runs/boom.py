"""A user pipeline that crashes on one page (``page-4``), for the test that an item error blocks the sweep."""

from __future__ import annotations

from typing import Any


class BoomPipeline:
    def process_item(self, item: Any) -> Any:
        if str(getattr(item, "document_id", "")).endswith("/page-4.html"):
            raise ValueError("a bug in a user's pipeline")
        return item
