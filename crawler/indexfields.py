"""The target's real index fields, and the run's "collected, not indexed" metadata measured against them.

On Coveo (and the local Push API, which follows it) a metadata name is indexed only when a field of that
name exists; settings.yaml declarations are a wish list, not the index. So at the end of a run the metadata
names that were sent (stat ``pushcrawl/fields/sent/<name>``) are compared with the Field API's listing
(``GET …/indexes/page/fields``, paged). When the listing cannot be read (a key without *View* on fields, a
dry run that opens no target) the report says which basis it used instead of pretending.
"""

from __future__ import annotations

import logging

from crawler.errors import PushError
from crawler.jsontypes import JSONObject
from crawler.pushapi.client import PushApiClient
from crawler.report import RunReport

logger = logging.getLogger(__name__)
SENT = "pushcrawl/fields/sent/"
PER_PAGE = 1000  # Coveo's largest page for the field listing


def target_fields(client: PushApiClient) -> set[str]:
    """Every field name of the target's index, lower-cased (field names are case-insensitive)."""
    names: set[str] = set()
    page = 0
    while True:
        resp = client.request(
            "GET",
            f"{client.platform_root}/indexes/page/fields?page={page}&perPage={PER_PAGE}",
            what="list index fields",
        )
        body = resp.json()
        items = body.get("items", []) if isinstance(body, dict) else body
        names.update(str(f.get("name", "")).lower() for f in items if isinstance(f, dict))
        page += 1
        total = int(body.get("totalPages", 1)) if isinstance(body, dict) else 1
        if page >= total or not items:
            return names


def compare_with_target(report: RunReport, stats: JSONObject, client: PushApiClient | None) -> None:
    """Replace the report's declaration-based list by the metadata the target has no field for."""
    sent = sorted(k.removeprefix(SENT) for k in stats if k.startswith(SENT))
    if client is None:
        report.extra["collected_not_indexed_basis"] = "settings.yaml declarations (no target opened)"
        return
    if not sent:
        return
    try:
        fields = target_fields(client)
    except PushError as exc:
        logger.warning(
            "could not list the target's index fields (%s); 'collected, not indexed' falls back to the "
            "fields settings.yaml declares",
            exc,
        )
        report.extra["collected_not_indexed_basis"] = "settings.yaml declarations (field listing failed)"
        return
    report.collected_not_indexed = [name for name in sent if name.lower() not in fields]
    report.extra["collected_not_indexed_basis"] = "target index fields"
