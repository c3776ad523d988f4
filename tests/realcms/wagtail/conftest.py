"""The Wagtail bed for the tests in this folder: started (and reset to its seed) once per session, left running.

Left running on purpose: the next session (or a developer poking at it) starts in a second; ``bed.py stop``
stops it. Not under CI (``CI`` set, as ``.ci/run`` sets it): there the bed lives in a throw-away folder, and a
server left behind outlived the job's tests (seen after a fresh-clone ``.ci/run``). Reset at session start
because the incremental test edits, deletes and adds pages.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.realcms.wagtail.bed import Bed, runtime_dir


@pytest.fixture(scope="session")
def bed() -> Iterator[Bed]:
    wagtail = Bed(runtime_dir())
    wagtail.reset()
    wagtail.start()
    yield wagtail
    if os.environ.get("CI"):
        wagtail.stop()


def api_listing(bed: Bed, endpoint: str) -> list[dict[str, Any]]:
    """Every item of an API v2 endpoint, paged as Wagtail allows (``limit`` ≤ 20)."""
    items: list[dict[str, Any]] = []
    while True:
        data = bed.api(f"{endpoint}/?fields=*&order=id&limit=20&offset={len(items)}")
        batch = list(data["items"])  # type: ignore[call-overload]
        items += batch
        if not batch or len(items) >= int(data["meta"]["total_count"]):  # type: ignore[index]
            return items


def collected(index_dir: Path) -> dict[str, dict[str, Any]]:
    """Metadata the local Push API holds per document id (``collected``: sent, whether or not mapped to a field)."""
    with sqlite3.connect(f"file:{index_dir / 'localapi.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT document_id, fields, collected FROM items").fetchall()
    return {doc_id: {**json.loads(fields), **json.loads(meta or "{}")} for doc_id, fields, meta in rows}
