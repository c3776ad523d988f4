"""Warm the Content Browser's caches when the server starts, so the first visit does not pay for them.

At 100,000 items the first view of a page paid one-off costs while a person waited: compiling its
templates, the activity log's outcome counts (a scan of the log), the per-source item counts, and tantivy
reading the facet columns from disk for the first aggregation (cold first views of 0.5-1.1 s at load 25,
bench/RESULTS.md). A daemon thread does that work once at start; it only reads, and a failure is logged and
ignored (the pages compute what they need anyway).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import tantivy

from crawler.localapi.browse import facets, lists
from crawler.localapi.browse.render import environment

if TYPE_CHECKING:
    from crawler.localapi.context import Context

log = logging.getLogger(__name__)


def warm(ctx: Context) -> None:
    env = environment()
    for name in env.list_templates():
        env.get_template(name)
    with ctx.store.read() as db:
        lists.outcome_counts(ctx, db)
        counts = facets.item_counts(db, str(ctx.store.path))
        names = facets.facet_fields(db)
    index = ctx.store.index
    for source_id in counts:
        query = tantivy.Query.term_query(index.schema, "src", source_id)
        index.facets(query, names, facets.TOP_VALUES)
        index.collected(query)


def start(ctx: Context) -> threading.Thread:
    def run() -> None:
        try:
            warm(ctx)
        except Exception:  # best effort: the pages compute whatever is not warm
            log.warning("warming the Content Browser's caches failed", exc_info=True)

    thread = threading.Thread(target=run, name="localapi-browse-warm", daemon=True)
    thread.start()
    return thread
