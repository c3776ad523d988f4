"""The Content Browser's sort indexes on the local index's items, apart from the pages that use them.

The server creates them when it starts (crawler.localapi.server), so a source's page sorted by title, date or
orderingId reads one page of rows at 100,000 items; kept out of ``sources`` so that starting the server (the
embedded target of every crawl) does not import the pages and Jinja2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.localapi.store import Store

INDEXES = (
    "CREATE INDEX IF NOT EXISTS items_browse_title ON items(source_id, json_extract(fields, '$.title') COLLATE NOCASE)",
    "CREATE INDEX IF NOT EXISTS items_browse_updated ON items(source_id, updated_ms)",
    "CREATE INDEX IF NOT EXISTS items_browse_ordering ON items(source_id, ordering_id)",
)


def ensure_indexes(store: Store) -> None:
    """The sort indexes; created once per data directory (about 3 s over 100,000 existing items)."""
    with store.write() as db:
        for sql in INDEXES:
            db.execute(sql)
