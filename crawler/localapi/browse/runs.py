"""The crawler's run history (its state.sqlite, read-only): a page of runs and a page per run.

``pushcrawl serve --state PATH`` points the server at the file. A run page shows the funnel (fetched →
mapped → pushed → indexed / rejected / pending, runitems.py), its message, every named failure (failed,
dropped and rejected items, unreadable listings, with their reasons; paged, filtered by kind), the other
counts it recorded, anything it kept per item in its counts, and its push batches from the journal, failed
ones first.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi.browse import runitems
from crawler.localapi.browse.render import Pager, render

if TYPE_CHECKING:
    from crawler.localapi.context import Context

FUNNEL = ("fetched", "documents", "pushed", "unchanged", "acknowledged", "deleted", "dropped", "errors", "failed")


def _open(ctx: Context) -> sqlite3.Connection | None:
    if ctx.state_db is None or not ctx.state_db.exists():
        return None
    # mode=ro: the browser must never write (or lock) the crawler's state, even by accident
    db = sqlite3.connect(f"file:{ctx.state_db}?mode=ro", uri=True, timeout=5)
    db.row_factory = sqlite3.Row
    return db


def _run(row: sqlite3.Row) -> JSONObject:
    run = dict(row)
    run["counts"] = json.loads(run["counts"] or "{}")
    run["target"] = run["scope"].split("/", 1)[0]
    run["duration_s"] = round(run["finished_at"] - run["started_at"], 1) if run["finished_at"] else None
    return run


def _missing(ctx: Context, request: Request) -> Response:
    message = (
        "This server was not given the crawler's run history. Start it with "
        "`pushcrawl serve --state .pushcrawl/state.sqlite` (the state_dir of settings.yaml)."
    )
    return render(ctx, request, "message.html", title="Runs", message=message)


def runs(ctx: Context, request: Request) -> Response:
    db = _open(ctx)
    if db is None:
        return _missing(ctx, request)
    with closing(db):
        pager = Pager(request, db.execute("SELECT COUNT(*) FROM runs").fetchone()[0], 50)
        rows = [
            _run(r)
            for r in db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ? OFFSET ?", (pager.size, pager.offset))
        ]
        tails = runitems.index_tails(db, [r["id"] for r in rows])
    for r in rows:
        r["index"] = tails.get(r["id"])
    return render(
        ctx, request, "runs.html", title="Runs", runs=rows, pager=pager, funnel=FUNNEL[:8], indexed=bool(tails)
    )


def run(ctx: Context, request: Request, run_id: str) -> Response:
    db = _open(ctx)
    if db is None:
        return _missing(ctx, request)
    with closing(db):
        row = db.execute("SELECT * FROM runs WHERE id = ?", (int(run_id) if run_id.isdigit() else -1,)).fetchone()
        if row is None:
            return render(ctx, request, "message.html", 404, title="Unknown run", message=f"No run {run_id}.")
        batches = [
            dict(b)
            for b in db.execute(
                "SELECT * FROM journal WHERE run_id = ? ORDER BY status = 'acked', created_at", (row["id"],)
            )
        ]
        info = _run(row)
        counts = info["counts"]
        funnel = runitems.funnel(db, info["id"], counts)
        kind = request.args.get("kind", "")
        kind = kind if kind in (*runitems.KINDS, "rejected") else ""
        page = max(1, request.args.get("page", 1, type=int) or 1)
        failed = runitems.failures(db, info["id"], kind, page)
        pager = Pager(request, failed["total"], runitems.PAGE_SIZE)
    numbers = {k: v for k, v in counts.items() if isinstance(v, int | float)}
    steps = [(k, numbers[k]) for k in FUNNEL if k in numbers]
    reasons = sorted((k, v) for k, v in numbers.items() if "/" in k)
    others = sorted((k, v) for k, v in numbers.items() if k not in FUNNEL and "/" not in k)
    lists = {k: v for k, v in counts.items() if isinstance(v, list | dict) and v}
    return render(
        ctx,
        request,
        "run.html",
        title=f"Run {info['id']}: {info['site']} ({info['mode']})",
        run=info,
        steps=steps,
        funnel=funnel,
        failed=failed,
        kind=kind,
        pager=pager,
        request_path=request.path,
        top=max([v for _, v in steps] or [1]) or 1,
        reasons=reasons,
        others=others,
        lists=lists,
        batches=batches,
    )
