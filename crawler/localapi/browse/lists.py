"""List pages: identity providers and identities, the activity log (named, filtered, paged) and fields."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from crawler.localapi.browse.render import Pager, render
from crawler.localapi.browse.sources import CACHE
from crawler.localapi.sqltypes import SQLParams

if TYPE_CHECKING:
    from crawler.localapi.context import Context


def identities(ctx: Context, request: Request) -> Response:
    with ctx.store.read() as db:
        names = dict(db.execute("SELECT id, name FROM sources").fetchall())
        providers = [
            {
                "id": p["id"],
                "type": json.loads(p["spec"]).get("type", ""),
                "sources": [(s, names.get(s, s)) for s in json.loads(p["sources"])],
            }
            for p in db.execute("SELECT * FROM providers ORDER BY rowid")
        ]
        pager = Pager(request, db.execute("SELECT COUNT(*) FROM identities").fetchone()[0], 100)
        rows = [
            dict(r) | {k: json.loads(r[k]) for k in ("members", "mappings", "wellknowns")}
            for r in db.execute(
                "SELECT * FROM identities ORDER BY provider_key, name_key LIMIT ? OFFSET ?",
                (pager.size, pager.offset),
            )
        ]
    return render(ctx, request, "identities.html", title="Identities", providers=providers, rows=rows, pager=pager)


def outcome_counts(ctx: Context, db: sqlite3.Connection) -> list[tuple[str, int]]:
    """(outcome, entries) most frequent first. A scan of the log, so cached until the next entry (a new
    entry moves the highest id)."""
    latest = db.execute("SELECT MAX(id) FROM activity").fetchone()[0]
    return list(
        CACHE.get_or_compute(
            ("outcomes", str(ctx.store.path), latest),
            lambda: db.execute(
                "SELECT outcome, COUNT(*) FROM activity GROUP BY outcome ORDER BY COUNT(*) DESC"
            ).fetchall(),
        )
    )


def activity(ctx: Context, request: Request) -> Response:
    chosen = {k: request.args.get(k, "") for k in ("target", "outcome", "operation")}
    where, args = ["1=1"], SQLParams()
    for column, value in chosen.items():
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    sql = " FROM activity WHERE " + " AND ".join(where)
    with ctx.store.read() as db:
        # Targets are source ids or provider ids: show a source's name, keep the id for the filter link.
        names = dict(db.execute("SELECT id, name FROM sources").fetchall())
        # the outcome counts also give the page's total when no filter, or only an outcome filter, is set
        outcomes = outcome_counts(ctx, db)
        if not (chosen["target"] or chosen["operation"]):
            total = sum(n for outcome, n in outcomes if outcome == chosen["outcome"] or not chosen["outcome"])
        else:
            total = db.execute("SELECT COUNT(*)" + sql, args).fetchone()[0]
        pager = Pager(request, total, 100)
        rows = db.execute("SELECT *" + sql + " ORDER BY id DESC LIMIT ? OFFSET ?", [*args, pager.size, pager.offset])
        entries = [dict(r) | {"name": names.get(r["target"], r["target"])} for r in rows]
    return render(
        ctx,
        request,
        "activity.html",
        title="Activity log",
        entries=entries,
        pager=pager,
        chosen=chosen,
        target_name=names.get(chosen["target"], chosen["target"]),
        outcomes=[(r[0], r[1]) for r in outcomes[:20]],
    )


def fields(ctx: Context, request: Request) -> Response:
    with ctx.store.read() as db:
        rows = [dict(r) | {"spec": json.loads(r["spec"])} for r in db.execute("SELECT * FROM fields ORDER BY name")]
    return render(ctx, request, "fields.html", title="Fields", rows=rows)
