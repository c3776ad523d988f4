"""Content Browser: server-rendered HTML over the local index (no JavaScript, no auth: it serves loopback).

Pages: sources; a source's items and its collected-but-not-indexed metadata; one item with every field
value, its metadata, permissions and text; identity providers and identities; the activity log; fields;
search as a chosen identity (or anonymously, as an API key searches).
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from crawler.localapi import searchapi

if TYPE_CHECKING:
    from crawler.localapi.context import Context

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 2em 2em;color:#222}"
    "nav{padding:.8em 0;border-bottom:1px solid #ccc;margin-bottom:1em}nav a{margin-right:1.2em}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top;font-size:.92em}"
    "th{background:#f4f4f4}code{font-size:.9em}.muted{color:#777}.bad{color:#a00}.ok{color:#070}"
    "input{padding:.2em}pre{white-space:pre-wrap;max-width:70em}"
)
PAGE_SIZE = 50


def e(value: Any) -> str:
    return escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def link(path: str, text: str, **params: Any) -> str:
    query = ("?" + urlencode({k: v for k, v in params.items() if v is not None})) if params else ""
    return f'<a href="{escape(path + query)}">{escape(text)}</a>'


def page(title: str, body: str) -> Response:
    nav = " ".join(
        link(p, t)
        for p, t in (
            ("/", "Sources"),
            ("/browse/identities", "Identities"),
            ("/browse/activity", "Activity log"),
            ("/browse/fields", "Fields"),
            ("/browse/search", "Search"),
        )
    )
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} - Local Push API</title>"
        f"<style>{STYLE}</style></head><body><nav><b>Local Push API</b> &nbsp; {nav}</nav>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, mimetype="text/html")


def table(headers: list[str], rows: list[list[str]], empty: str = "Nothing yet.") -> str:
    if not rows:
        return f"<p class='muted'>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def index(ctx: Context, request: Request) -> Response:
    with ctx.store.read() as db:
        rows = db.execute(
            "SELECT s.*, (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id) AS n"
            " FROM sources s ORDER BY created_ms"
        ).fetchall()
        pending = db.execute("SELECT COUNT(*) FROM queue").fetchone()[0]
    cells = [
        [
            link(f"/browse/sources/{r['id']}", r["name"]),
            f"<code>{e(r['id'])}</code>",
            e(r["visibility"]),
            e(r["status"]),
            str(r["n"]),
        ]
        for r in rows
    ]
    body = (
        f"<p>Organization <code>{e(ctx.org_id)}</code> &middot; {pending} operation(s) queued &middot; "
        f"Push API base <code>{e(ctx.base_url())}/push/v1/organizations/{e(ctx.org_id)}</code></p>"
        + table(["Name", "Id", "Visibility", "Status", "Items"], cells, "No sources yet.")
    )
    return page("Sources", body)


def source_items(ctx: Context, request: Request, source_id: str) -> Response:
    source = ctx.store.source(source_id)
    if source is None:
        return page("Unknown source", f"<p class='bad'>No source {e(source_id)}.</p>")
    offset = max(0, request.args.get("offset", 0, type=int))
    with ctx.store.read() as db:
        total = db.execute("SELECT COUNT(*) FROM items WHERE source_id=?", (source_id,)).fetchone()[0]
        rows = db.execute(
            "SELECT document_id, ordering_id, fields, public, updated_ms FROM items WHERE source_id=?"
            " ORDER BY document_id LIMIT ? OFFSET ?",
            (source_id, PAGE_SIZE, offset),
        ).fetchall()
        collected = db.execute(
            "SELECT j.key, COUNT(*) AS n FROM items i, json_each(i.collected) j"
            " WHERE i.source_id=? GROUP BY j.key ORDER BY j.key",
            (source_id,),
        ).fetchall()
    cells = [
        [
            link("/browse/item", r["document_id"], source=source_id, documentId=r["document_id"]),
            e(json.loads(r["fields"]).get("title", "")),
            str(r["ordering_id"]),
            "public" if r["public"] else "secured",
        ]
        for r in rows
    ]
    pager = ""
    if offset + PAGE_SIZE < total:
        pager = link(f"/browse/sources/{source_id}", "next page", offset=offset + PAGE_SIZE)
    meta = table(
        ["Metadata name", "Items"],
        [[e(r["key"]), str(r["n"])] for r in collected],
        "Every metadata name matches a field.",
    )
    body = (
        f"<p><code>{e(source_id)}</code> &middot; {e(source['visibility'])} &middot; status "
        f"{e(source['status'])} &middot; {total} item(s)</p>"
        + table(["Document id", "Title", "orderingId", "Permissions"], cells, "No items.")
        + pager
        + "<h2>Collected metadata, not indexed</h2><p class='muted'>Create a field with the same name to "
        "index it (applies to items pushed afterwards).</p>" + meta
    )
    return page(f"Source {source['name']}", body)


def _permissions(levels: list[dict[str, Any]] | None) -> str:
    if levels is None:
        return "<p class='muted'>No permissions: visible to everyone.</p>"
    out = []
    for i, level in enumerate(levels, 1):
        rows = []
        for pset in level["permissionSets"]:

            def names(perms: list[dict[str, Any]]) -> str:
                return "<br>".join(
                    f"{e(p['identity'])} <span class='muted'>({e(p['identityType'])}"
                    f"{', ' + e(p['securityProvider']) if p.get('securityProvider') else ''})</span>"
                    for p in perms
                )

            rows.append(
                [
                    e(pset.get("name") or ""),
                    "yes" if pset["allowAnonymous"] else "no",
                    names(pset["allowedPermissions"]),
                    names(pset["deniedPermissions"]),
                ]
            )
        out.append(
            f"<h3>Level {i}: {e(level.get('name') or '')}</h3>"
            + table(["Set", "Anonymous", "Allowed", "Denied"], rows, "No sets.")
        )
    return "".join(out)


def item(ctx: Context, request: Request) -> Response:
    source_id, doc_id = request.args.get("source", ""), request.args.get("documentId", "")
    with ctx.store.read() as db:
        row = db.execute(
            "SELECT i.*, f.body FROM items i JOIN items_fts f ON f.rowid = i.rid"
            " WHERE i.source_id=? AND i.document_id=?",
            (source_id, doc_id),
        ).fetchone()
    if row is None:
        return page("Unknown item", f"<p class='bad'>No item {e(doc_id)} in {e(source_id)}.</p>")
    fields = json.loads(row["fields"])
    collected = json.loads(row["collected"])
    body = (
        f"<p>{link(f'/browse/sources/{source_id}', 'back to the source')} &middot; orderingId "
        f"{row['ordering_id']}{' &middot; parent ' + e(row['parent_id']) if row['parent_id'] else ''}</p>"
        "<h2>Fields</h2>"
        + table(["Field", "Value"], [[e(k), e(v)] for k, v in sorted(fields.items())])
        + "<h2>Collected metadata, not indexed</h2>"
        + table(["Name", "Value"], [[e(k), e(v)] for k, v in sorted(collected.items())], "None.")
        + "<h2>Permissions</h2>"
        + _permissions(json.loads(row["permissions"]) if row["permissions"] else None)
        + f"<h2>Text</h2><pre>{e(row['body'][:20000])}</pre>"
    )
    return page(doc_id, body)


def identities(ctx: Context, request: Request) -> Response:
    with ctx.store.read() as db:
        providers = db.execute("SELECT * FROM providers ORDER BY rowid").fetchall()
        rows = db.execute("SELECT * FROM identities ORDER BY provider_key, name_key").fetchall()

    def names(raw: str) -> str:
        return ", ".join(
            e(m["name"]) + (f" <span class='muted'>@{e(m['provider'])}</span>" if m.get("provider") else "")
            for m in json.loads(raw)
        )

    prov = table(
        ["Provider", "Type", "Attached sources"],
        [
            [e(p["id"]), e(json.loads(p["spec"]).get("type", "")), e(", ".join(json.loads(p["sources"])))]
            for p in providers
        ],
        "No providers.",
    )
    ident = table(
        ["Provider", "Name", "Type", "Members", "Aliases", "Granted", "orderingId", "State"],
        [
            [
                e(r["provider"]),
                e(r["name"]),
                e(r["type"]),
                names(r["members"]),
                names(r["mappings"]),
                names(r["wellknowns"]),
                str(r["ordering_id"]),
                "<span class='bad'>disabled</span>" if r["disabled"] else "<span class='ok'>active</span>",
            ]
            for r in rows
        ],
        "No identities.",
    )
    return page("Identities", "<h2>Security identity providers</h2>" + prov + "<h2>Identities</h2>" + ident)


def activity(ctx: Context, request: Request) -> Response:
    target, outcome = request.args.get("target") or None, request.args.get("outcome") or None
    sql, args = "SELECT * FROM activity WHERE 1=1", list[str]()
    if target:
        sql, args = sql + " AND target = ?", [*args, target]
    if outcome:
        sql, args = sql + " AND outcome = ?", [*args, outcome]
    with ctx.store.read() as db:
        rows = db.execute(sql + " ORDER BY id DESC LIMIT 500", args).fetchall()
    import datetime as dt

    def when(ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

    cells = [
        [
            when(r["ts_ms"]),
            link("/browse/activity", r["target"], target=r["target"]),
            e(r["operation"]),
            e(r["document_id"] or ""),
            e(r["ordering_id"] if r["ordering_id"] is not None else ""),
            link("/browse/activity", r["outcome"], outcome=r["outcome"]),
            e(r["detail"]),
        ]
        for r in rows
    ]
    return page(
        "Activity log",
        "<p class='muted'>Newest first, last 500 entries. Click a source or outcome to "
        "filter.</p>"
        + table(
            [
                "Time (UTC)",
                "Source / provider",
                "Operation",
                "Document / identity",
                "orderingId",
                "Outcome",
                "Detail",
            ],
            cells,
            "No activity.",
        ),
    )


def fields(ctx: Context, request: Request) -> Response:
    with ctx.store.read() as db:
        rows = db.execute("SELECT name, type, system FROM fields ORDER BY name").fetchall()
    return page(
        "Fields",
        table(
            ["Name", "Type", "Origin"],
            [[e(r["name"]), e(r["type"]), "system" if r["system"] else "created"] for r in rows],
        ),
    )


def search(ctx: Context, request: Request) -> Response:
    q, aq = request.args.get("q", ""), request.args.get("aq", "")
    user, provider = request.args.get("user", "").strip(), request.args.get("provider", "").strip()
    form = (
        f"<form method='get'><input name='q' value='{e(q)}' placeholder='words' size='30'> "
        f"<input name='aq' value='{e(aq)}' placeholder='@field==value' size='24'> as "
        f"<input name='user' value='{e(user)}' placeholder='anonymous' size='24'> in provider "
        f"<input name='provider' value='{e(provider)}' placeholder='Email Security Provider' size='24'> "
        "<button>Search</button></form>"
    )
    user_ids = [{"name": user, "provider": provider or None, "type": "User"}] if user else None
    result = searchapi.run(ctx.store, {"q": q, "aq": aq, "numberOfResults": 50}, user_ids)
    rows = [
        [
            e(r["title"] or ""),
            link("/browse/item", r["uri"], source=_source_of(ctx, r), documentId=r["uri"]),
            e(r["excerpt"]),
        ]
        for r in result["results"]
    ]
    who = f"as {e(user)}" if user else "anonymously (as an API key searches)"
    return page(
        "Search",
        form
        + f"<p>{result['totalCount']} result(s) {who}.</p>"
        + table(["Title", "URI", "Excerpt"], rows, "No results."),
    )


def _source_of(ctx: Context, result: dict[str, Any]) -> str:
    with ctx.store.read() as db:
        row = db.execute("SELECT source_id FROM items WHERE rid = ?", (int(result["uniqueId"]),)).fetchone()
    return str(row[0]) if row else ""


PAGES: dict[str, Any] = {
    "/": index,
    "/browse/sources/<source_id>": source_items,
    "/browse/item": item,
    "/browse/identities": identities,
    "/browse/activity": activity,
    "/browse/fields": fields,
    "/browse/search": search,
}
