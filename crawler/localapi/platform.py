"""The Platform API subset a Push source needs: sources, security identity providers and index fields.

Shapes follow docs/push-api-contract.md, "Sources and providers", for sources; for providers and fields they are a
lenient subset of Coveo's Platform API (unknown keys are kept and echoed back).
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi.apierror import ApiError, json_response
from crawler.localapi.auth import Caller
from crawler.localapi.context import Context, json_body
from crawler.localapi.store import now_ms

NAME = re.compile(r"^[A-Za-z0-9_-]+$")
VISIBILITIES = {"SHARED", "SECURED", "PRIVATE"}
FIELD_TYPES = {"STRING", "LONG", "LONG_64", "DOUBLE", "DATE", "VECTOR", "INTEGER_32"}
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _source_json(ctx: Context, row: JSONObject) -> JSONObject:
    with ctx.store.read() as db:
        count = db.execute("SELECT COUNT(*) FROM items WHERE source_id = ?", (row["id"],)).fetchone()[0]
    return {
        "id": row["id"],
        "name": row["name"],
        "sourceType": "PUSH",
        "pushEnabled": True,
        "sourceVisibility": row["visibility"],
        "status": row["status"],
        "itemCount": count,
        "information": {"numberOfDocuments": count},
        "createdDate": row["created_ms"],
    }


def list_sources(ctx: Context, request: Request, org: str) -> Response:
    ctx.check_org(org)
    with ctx.store.read() as db:
        rows = [dict(r) for r in db.execute("SELECT * FROM sources ORDER BY created_ms, id")]
    return json_response([_source_json(ctx, r) for r in rows])


def get_source(ctx: Context, request: Request, org: str, source_id: str) -> Response:
    ctx.check_org(org)
    row = ctx.store.source(source_id)
    if row is None:
        raise ApiError(404, "SOURCE_DOES_NOT_EXIST", f"Source '{source_id}' does not exist.")
    return json_response(_source_json(ctx, row))


def create_source(ctx: Context, request: Request, org: str) -> Response:
    ctx.check_org(org)
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_JSON", "The body must be a source object.")
    name = body.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ApiError(
            400,
            "INVALID_SOURCE_NAME",
            f"Invalid source name {name!r}: use letters, digits, hyphens (-) and underscores (_).",
        )
    stype = str(body.get("sourceType", "PUSH")).upper()
    if stype != "PUSH":
        raise ApiError(400, "INVALID_PARAMETER", f"Only PUSH sources exist here, not {stype}.")
    # Lenient: visibility defaults to SECURED (permissions are evaluated) when the body does not say.
    visibility = str(body.get("sourceVisibility", "SECURED")).upper()
    if visibility not in VISIBILITIES:
        raise ApiError(400, "INVALID_PARAMETER", f"sourceVisibility must be one of {sorted(VISIBILITIES)}.")
    source_id = f"{ctx.org_id}-{secrets.token_hex(10)}"
    with ctx.store.write() as db:
        if db.execute("SELECT 1 FROM sources WHERE name_key = ?", (name.lower(),)).fetchone():
            raise ApiError(409, "DUPLICATE_SOURCE_NAME", f"A source named '{name}' already exists.")
        db.execute(
            "INSERT INTO sources(id, name, name_key, visibility, created_ms) VALUES (?,?,?,?,?)",
            (source_id, name, name.lower(), visibility, now_ms()),
        )
        ctx.store.log(db, source_id, "CREATE_SOURCE", "APPLIED", detail=name)
    row = ctx.store.source(source_id)
    assert row is not None
    return json_response(_source_json(ctx, row), 201)


def _provider_json(row: sqlite3.Row) -> JSONObject:
    spec: JSONObject = json.loads(row["spec"])
    spec.update(
        {
            "id": row["id"],
            "name": spec.get("name", row["id"]),
            "sources": [{"id": s} for s in json.loads(row["sources"])],
        }
    )
    return spec


def list_providers(ctx: Context, request: Request, org: str) -> Response:
    ctx.check_org(org)
    with ctx.store.read() as db:
        return json_response([_provider_json(r) for r in db.execute("SELECT * FROM providers ORDER BY rowid")])


def get_provider(ctx: Context, request: Request, org: str, provider_id: str) -> Response:
    ctx.check_org(org)
    with ctx.store.read() as db:
        row = db.execute("SELECT * FROM providers WHERE id_key = ?", (provider_id.lower(),)).fetchone()
    if row is None:
        raise ApiError(404, "SECURITY_PROVIDER_NOT_FOUND", f"Security provider '{provider_id}' does not exist.")
    return json_response(_provider_json(row))


def put_provider(ctx: Context, request: Request, org: str, provider_id: str) -> Response:
    """Create or replace a provider; ``sources`` (ids or ``{"id": ...}`` objects) attaches it to sources."""
    ctx.check_org(org)
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_JSON", "The body must be a security provider object.")
    sources = []
    for entry in body.get("sources") or []:
        sid = entry.get("id") if isinstance(entry, dict) else entry
        if not isinstance(sid, str) or ctx.store.source(sid) is None:
            raise ApiError(400, "INVALID_PARAMETER", f"Unknown source in 'sources': {entry!r}.")
        sources.append(sid)
    spec = {k: v for k, v in body.items() if k not in ("sources", "id")}
    spec.setdefault("type", "EXPANDED")
    with ctx.store.write() as db:
        db.execute(
            "INSERT INTO providers(id_key, id, spec, sources) VALUES (?,?,?,?) ON CONFLICT(id_key) DO UPDATE"
            " SET spec = excluded.spec, sources = excluded.sources",
            (provider_id.lower(), provider_id, json.dumps(spec), json.dumps(sources)),
        )
        row = db.execute("SELECT * FROM providers WHERE id_key = ?", (provider_id.lower(),)).fetchone()
        ctx.store.log(db, provider_id, "PUT_PROVIDER", "APPLIED", detail=f"sources: {sources}")
    return json_response(_provider_json(row))


def _field_json(row: sqlite3.Row) -> JSONObject:
    spec: JSONObject = json.loads(row["spec"])
    spec.update({"name": row["name"], "type": row["type"], "system": bool(row["system"])})
    return spec


def list_fields(ctx: Context, request: Request, org: str) -> Response:
    ctx.check_org(org)
    with ctx.store.read() as db:
        fields = [_field_json(r) for r in db.execute("SELECT * FROM fields ORDER BY name")]
    # Coveo's paged listing (GET .../indexes/page/fields, POST .../indexes/fields/search) wraps the list;
    # every listing route answers that same object, with every field on one page (lenient: no filters).
    return json_response({"items": fields, "totalPages": 1, "totalEntries": len(fields)})


def get_field(ctx: Context, request: Request, org: str, name: str) -> Response:
    ctx.check_org(org)
    with ctx.store.read() as db:
        row = db.execute("SELECT * FROM fields WHERE name = ?", (name.lower(),)).fetchone()
    if row is None:
        raise ApiError(404, "FIELD_NOT_FOUND", f"The field '{name}' does not exist.")
    return json_response(_field_json(row))


def delete_field(ctx: Context, request: Request, org: str, name: str) -> Response:
    ctx.check_org(org)
    with ctx.store.write() as db:
        row = db.execute("SELECT system FROM fields WHERE name = ?", (name.lower(),)).fetchone()
        if row is None:
            raise ApiError(404, "FIELD_NOT_FOUND", f"The field '{name}' does not exist.")
        if row["system"]:
            raise ApiError(400, "SYSTEM_FIELD", f"The field '{name}' is a system field and cannot be deleted.")
        db.execute("DELETE FROM fields WHERE name = ?", (name.lower(),))
    return Response(status=204)


def create_fields(ctx: Context, request: Request, org: str) -> Response:
    """``POST .../indexes/fields`` (one field object) or ``.../indexes/fields/batch/create`` (a list)."""
    ctx.check_org(org)
    body = json_body(request)
    specs = body if isinstance(body, list) else [body]
    rows = []
    for spec in specs:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise ApiError(400, "INVALID_JSON", "Each field needs a 'name'.")
        name = spec["name"].lower()
        ftype = str(spec.get("type", "STRING")).upper()
        if not FIELD_NAME.match(name):
            raise ApiError(400, "INVALID_FIELD_NAME", f"Invalid field name {spec['name']!r}: use [a-z][a-z0-9_]*.")
        if ftype not in FIELD_TYPES:
            raise ApiError(400, "INVALID_FIELD_TYPE", f"Field type must be one of {sorted(FIELD_TYPES)}.")
        rows.append((name, ftype, json.dumps({**spec, "name": name, "type": ftype})))
    with ctx.store.write() as db:
        for name, _, _ in rows:
            if db.execute("SELECT 1 FROM fields WHERE name = ?", (name,)).fetchone():
                raise ApiError(409, "FIELD_ALREADY_EXISTS", f"The field '{name}' already exists.")
        db.executemany("INSERT INTO fields(name, type, system, spec) VALUES (?,?,0,?)", rows)
    # Auto-mapping applies to items pushed from now on, like Coveo (a rebuild would remap older ones).
    return json_response({} if isinstance(body, list) else {"name": rows[0][0], "type": rows[0][1]}, 201)


# Coveo's privilege evaluator (``POST /rest/privilege/evaluate``, as coveo/platform-client and the Coveo CLI
# call it): {"organizationId", "requestedPrivilege": {"owner", "targetDomain", "type", "targetId"}} →
# {"approved": bool, "evaluationReport": ...}. Domains a Push key is checked for map onto the local scopes.
def evaluate_privilege(ctx: Context, request: Request, caller: Caller) -> Response:
    body = json_body(request)
    wanted = body.get("requestedPrivilege") if isinstance(body, dict) else None
    if not isinstance(wanted, dict):
        raise ApiError(400, "INVALID_JSON", "The body needs a 'requestedPrivilege' object.")
    org = body.get("organizationId") or ctx.org_id
    domain = str(wanted.get("targetDomain", "")).upper()
    kind = str(wanted.get("type", "")).upper()
    target = str(wanted.get("targetId") or "*")
    if org != ctx.org_id:
        approved, verdict = False, "OPERATION_FORBIDDEN_FOR_AUTHENTICATION_BOUND_TO_DIFFERENT_ORGANIZATION"
    else:
        if domain == "SOURCE" and kind == "EDIT":
            approved = caller.can("push", target) if target != "*" else caller.can("push", None)
        elif domain == "SECURITY_PROVIDER" and kind == "EDIT":
            approved = caller.can("identities")
        elif domain in ("SOURCE", "ORGANIZATION", "SECURITY_PROVIDER", "FIELD") and kind == "VIEW":
            approved = caller.can("read")
        else:
            approved = caller.can("admin")
        verdict = "OPERATION_GRANTED" if approved else "OPERATION_NOT_ALLOWED"
    return json_response(
        {"approved": approved, "evaluationReport": verdict, "organizationId": org, "requestedPrivilege": wanted}
    )
