"""The Source Logs API (docs/push-api-contract.md, "Source Logs API"), served from the activity log: what the
pipeline did with each item.

``POST /logs/v1/organizations/{org}?from=&to=[&page=][&perPage=][&documentId=][&documentIdMatching=]`` with a
JSON body of optional filters (``sourcesIds``, ``operations``, ``results``, ``tasks``, ``resourceIds`` and
their ``exclude*`` counterparts; an allow-list wins over its exclude-list) answers
``{"documentLogEntries": [...], "hasNextPage": bool}``, entries oldest first. Entries are the worker's
per-item outcomes, each logged with its pipeline stage (``task``): applied → ``COMPLETED`` at ``INDEXING``;
below an ``olderthan`` threshold or out of sequence → ``REJECTED`` at ``CONSUMING``; refused by validation
→ ``REJECTED`` at ``VALIDATION``; unreadable content → ``ERROR`` at ``PROCESSING``. The reason travels in
``meta.error`` (and ``meta.errorCode``). Synchronous HTTP refusals are not pipeline entries, as in Coveo.
Bad parameters (a range over 7 days, an unknown enum value, a malformed date) are 400s.

Pages are numbered, as in Coveo, but a reader follows them in order (a run's reconciliation reads 200 pages
for 200,000 items): where page N of the same query ended is remembered, so page N+1 starts there (the
``activity_ts`` index) instead of building and skipping every earlier entry again — a whole read is linear in
the entries, not quadratic.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONData, JSONObject
from crawler.localapi.apierror import ApiError, json_response
from crawler.localapi.context import Context, json_body

OPERATIONS = ("ADD", "ADD_BY_REFERENCE", "BATCH_FILE", "DELETE", "DELETE_AND_CHILDREN", "DELETE_OLDER_THAN", "UPDATE")
RESULTS = ("COMPLETED", "ERROR", "REJECTED", "SKIPPED", "WARNING")
TASKS = (
    *("CRAWLING", "STREAMING", "STREAMING_BATCH", "STREAMING_EXTENSION", "CONSUMING", "CONSUMING_BATCH"),
    *("PREINDEXING", "VALIDATION", "PROCESSING", "MAPPING", "EXTENSION", "INDEXING"),
)
MAX_RANGE = timedelta(days=7)
MAX_PER_PAGE = 1000
#: body filter -> (entry key, allowed values or None for free text)
FILTERS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "sourcesIds": ("sourceId", None),
    "operations": ("operation", OPERATIONS),
    "results": ("result", RESULTS),
    "tasks": ("task", TASKS),
    "resourceIds": ("resourceId", None),
}
EXCLUDES = {
    "excludeSourceIds": "sourcesIds",
    "excludeOperations": "operations",
    "excludeResults": "results",
    "excludeTasks": "tasks",
    "excludeResourceIds": "resourceIds",
}
#: (query, page) -> (ts_ms, id) of the activity row the previous page ended with; the newest few queries only
_RESUME: OrderedDict[tuple[str | int | None, ...], tuple[int, int]] = OrderedDict()
_RESUME_KEPT = 256
_RESUME_LOCK = threading.Lock()
_RESULT = {
    "ADDED": "COMPLETED",
    "UPDATED": "COMPLETED",
    "DELETED": "COMPLETED",
    "OUT_OF_SEQUENCE_OPERATION": "REJECTED",
}


def _bad(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER", message)


def _when(request: Request, name: str) -> datetime:
    raw = request.args.get(name)
    if not raw:
        raise ApiError(400, "MISSING_PARAMETER", f"The parameter '{name}' is required (a W3C datetime).")
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))  # a '+' arrives as ' ' when not encoded
    except ValueError:
        raise _bad(f"'{name}' must be a W3C datetime such as 2026-01-31T12:00:00Z, not {raw!r:.60}.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9 or not low <= int(raw) <= high:
        raise _bad(f"'{name}' must be an integer between {low} and {high}, not {raw!r:.40}.")
    return int(raw)


def _filters(body: JSONData) -> dict[str, tuple[set[str], bool]]:
    """filter name -> (values, is_exclusion); an allow-list wins over its exclude-list."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_JSON", "The body must be a JSON object of filters.")
    out: dict[str, tuple[set[str], bool]] = {}
    for key, value in body.items():
        name = EXCLUDES.get(key, key)
        if name not in FILTERS:
            allowed = ", ".join([*FILTERS, *EXCLUDES])
            raise _bad(f"Unknown filter {key!r:.40}; the filters are {allowed}.")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(f"'{key}' must be an array of strings.")
        enum = FILTERS[name][1]
        wrong = [v for v in value if enum is not None and v not in enum]
        if wrong:
            raise _bad(f"'{key}' has unknown value(s) {wrong[:3]}; allowed: {', '.join(enum or ())}.")
        if key == name or name not in out:
            out[name] = (set(value), key != name)
    return out


def entry(row: sqlite3.Row, org: str) -> JSONObject:
    """One activity row as a Source Logs entry."""
    op, outcome, detail = row["operation"], row["outcome"], row["detail"] or ""
    if op == "ADD_OR_UPDATE":
        operation = "UPDATE" if outcome == "UPDATED" else "ADD"
    elif op == "DELETE":
        operation = "DELETE_AND_CHILDREN" if "child item(s) deleted" in detail else "DELETE"
    else:
        operation = {"BATCH": "BATCH_FILE"}.get(op, op)
    result = _RESULT.get(outcome, outcome if outcome in RESULTS else "ERROR")
    meta: JSONObject = {"orderingId": row["ordering_id"]}
    if result != "COMPLETED":
        meta["error"] = detail or outcome
        meta["errorCode"] = outcome
    elif detail:
        meta["message"] = detail
    stamp = datetime.fromtimestamp(row["ts_ms"] / 1000, UTC)
    return {
        "guid": f"local-{row['id']}",
        "id": row["document_id"],
        "datetime": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "organizationId": org,
        "sourceId": row["target"],
        "requestId": str(row["ordering_id"]) if row["ordering_id"] is not None else None,
        "resourceId": row["target"],
        "operation": operation,
        "result": result,
        "task": row["task"],
        "meta": meta,
    }


def _keep(item: JSONObject, filters: dict[str, tuple[set[str], bool]]) -> bool:
    return all((item[FILTERS[name][0]] in values) != exclude for name, (values, exclude) in filters.items())


def _document_match(doc_id: str | None, wanted: str, how: str) -> bool:
    if doc_id is None:
        return False
    if how == "EXACT":
        return doc_id == wanted
    if how == "PARTIAL":
        return wanted in doc_id
    from fnmatch import fnmatchcase

    return fnmatchcase(doc_id, wanted)


def logs(ctx: Context, request: Request, org: str) -> Response:
    start, end = _when(request, "from"), _when(request, "to")
    if end < start:
        raise _bad("'from' must not be later than 'to'.")
    if end - start > MAX_RANGE:
        raise _bad("'from' and 'to' must be at most 7 days apart.")
    page = _int(request, "page", 0, 0, 1_000_000)
    per_page = _int(request, "perPage", 100, 1, MAX_PER_PAGE)
    doc_id = request.args.get("documentId")
    how = (request.args.get("documentIdMatching") or "EXACT").upper()
    if how not in ("EXACT", "PARTIAL", "WILDCARD"):
        raise _bad("'documentIdMatching' must be EXACT, PARTIAL or WILDCARD.")
    filters = _filters(json_body(request) if request.get_data() else None)
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    query = (str(ctx.store.path), lo, hi, doc_id, how, json.dumps(sorted(filters.items()), default=sorted), per_page)
    with _RESUME_LOCK:
        after = _RESUME.get((*query, page))
    # without a remembered position (a first page, a page asked out of order) entries before it are skipped
    skip = 0 if after else page * per_page
    after_ts, after_id = after or (lo, -1)  # (lo, -1): every row of ts_ms >= lo
    wanted_page: list[JSONObject] = []
    last: tuple[int, int] | None = None
    with ctx.store.read() as db:
        rows = db.execute(
            "SELECT a.* FROM activity a JOIN sources s ON s.id = a.target"
            " WHERE a.task IS NOT NULL AND (a.ts_ms, a.id) > (?, ?) AND a.ts_ms <= ? ORDER BY a.ts_ms, a.id",
            (after_ts, after_id, hi),
        )
        for row in rows:
            if doc_id and not _document_match(row["document_id"], doc_id, how):
                continue
            item = entry(row, org)
            if not _keep(item, filters):
                continue
            if skip:
                skip -= 1
                continue
            if len(wanted_page) == per_page:
                break  # one more entry: there is a next page
            wanted_page.append(item)
            last = (row["ts_ms"], row["id"])
        else:
            last = None  # no next page: nothing to remember
    if last is not None:
        with _RESUME_LOCK:
            _RESUME[(*query, page + 1)] = last
            while len(_RESUME) > _RESUME_KEPT:
                _RESUME.popitem(last=False)
        return json_response({"documentLogEntries": wanted_page, "hasNextPage": True})
    return json_response({"documentLogEntries": wanted_page, "hasNextPage": False})
