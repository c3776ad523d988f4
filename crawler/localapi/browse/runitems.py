"""What a run page shows beyond its counts: the funnel's tail and every named failure, from the state file.

The crawler keeps, in the same state.sqlite, each run's named events (``ledger_events``, crawler/ledger.py:
failed items, unreadable listing pages, drops with their reason, the fatal reason) and, once the run was
reconciled with the Source Logs API, what the index did with its items (``indexing_runs``: indexed /
rejected / pending; ``indexing_failures``: every item rejected after its 202, with the stage and reason).
Each table is read only when the file has it, so the page works with a state file of any version.
"""

from __future__ import annotations

import sqlite3

from crawler.jsontypes import JSONObject

#: ledger event kinds listed as failures (deletions are not failures; they are counted in the funnel)
KINDS = ("error", "listing", "dropped", "fatal")
PAGE_SIZE = 100


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def funnel(db: sqlite3.Connection, run_id: int, counts: JSONObject) -> JSONObject:
    """fetched → mapped → pushed → indexed / rejected / pending, and whether the index was read back."""

    def n(key: str) -> int | None:
        value = counts.get(key)
        return int(value) if isinstance(value, int | float) else None

    steps: list[tuple[str, int | None]] = [
        ("fetched", n("fetched")),
        ("mapped", n("documents")),
        ("pushed", n("pushed")),
    ]
    tail: JSONObject = {"checked": False}
    if "indexing_runs" in _tables(db):
        row = db.execute(
            "SELECT pushed, indexed, rejected, pending, checked_at, checks, truncated FROM indexing_runs"
            " WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if row is not None:
            tail = dict(row) | {"checked": True}
            steps[2] = ("pushed", int(row["pushed"]))
    return {"steps": [(k, v) for k, v in steps if v is not None], "tail": tail}


def index_tails(db: sqlite3.Connection, run_ids: list[int]) -> dict[int, JSONObject]:
    """run id -> {indexed, rejected, pending} for the runs read back from the index (none: not checked)."""
    if not run_ids or "indexing_runs" not in _tables(db):
        return {}
    marks = ",".join("?" * len(run_ids))
    rows = db.execute(
        f"SELECT run_id, indexed, rejected, pending FROM indexing_runs WHERE run_id IN ({marks})", run_ids
    ).fetchall()
    return {r["run_id"]: dict(r) for r in rows}


def failures(db: sqlite3.Connection, run_id: int, kind: str, page: int) -> JSONObject:
    """Counts of named failures by kind, and one page of them (``kind`` "" for all), in the order they
    were recorded."""
    tables = _tables(db)
    parts, params = [], []
    if "ledger_events" in tables:
        marks = ",".join("?" * len(KINDS))
        parts.append(
            "SELECT kind, item_id, '' AS stage, reason, at, seq FROM ledger_events"
            f" WHERE run_id = ? AND kind IN ({marks})"
        )
        params += [run_id, *KINDS]
    if "indexing_failures" in tables:
        parts.append(
            "SELECT 'rejected' AS kind, document_id AS item_id, result || ' at ' || task AS stage, reason, at, 0"
            " FROM indexing_failures WHERE run_id = ?"
        )
        params.append(run_id)
    if not parts:
        return {"known": False, "by_kind": {}, "rows": [], "total": 0}
    union = " UNION ALL ".join(parts)
    by_kind = dict(db.execute(f"SELECT kind, COUNT(*) FROM ({union}) GROUP BY kind ORDER BY kind", params).fetchall())
    where, extra = (" WHERE kind = ?", [kind]) if kind else ("", [])
    rows = db.execute(
        f"SELECT * FROM ({union}){where} ORDER BY at, seq, item_id LIMIT ? OFFSET ?",
        [*params, *extra, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    ).fetchall()
    total = by_kind.get(kind, 0) if kind else sum(by_kind.values())
    return {"known": True, "by_kind": by_kind, "rows": [dict(r) for r in rows], "total": total}
