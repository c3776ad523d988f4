"""Push API routes (docs/push-api-contract.md, "Calls pushcrawl makes"): validate synchronously, queue, answer
201/202 with ``{}``."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from crawler.jsontypes import JSONObject
from crawler.localapi import identities, validate
from crawler.localapi.apierror import ApiError, invalid, json_response, missing
from crawler.localapi.context import Context, json_body
from crawler.localapi.store import now_ms

STATUS_TYPES = {"REBUILD", "REFRESH", "INCREMENTAL", "IDLE"}
# Coveo allows unsigned 64-bit ids; SQLite integers are signed 64-bit, so ids above 2**63-1 are refused
# (412) rather than silently wrapped. Real-world schemes (ms, .NET ticks, ns epochs) stay far below it.
MAX_ORDERING_ID = 2**63 - 1


def _ordering(request: Request, name: str = "orderingId", *, required: bool = False) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise missing(name)
        return None
    if not raw.isdigit() or int(raw) > MAX_ORDERING_ID:
        raise invalid(name, f"must be an integer from 0 to {MAX_ORDERING_ID}")
    return int(raw)


def _bool(request: Request, name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise invalid(name, "must be true or false")
    return raw == "true"


def _source(ctx: Context, org: str, source_id: str) -> JSONObject:
    ctx.check_org(org)
    source = ctx.store.source(source_id)
    if source is None:
        raise ApiError(412, "SOURCE_DOES_NOT_EXIST", f"Source '{source_id}' does not exist.")
    return source


def _file_id(ctx: Context, request: Request) -> str:
    file_id = request.args.get("fileId")
    if not file_id:
        raise missing("fileId")
    state = ctx.files.state(file_id)
    if state != "ready":
        why = {
            "missing": "unknown or already consumed",
            "empty": "nothing was uploaded to it",
            "expired": "the container expired before an upload",
        }[state]
        raise invalid("fileId", f"file container {file_id}: {why}")
    ctx.files.consume(file_id)  # single use: a second batch with the same fileId is refused
    return file_id


def accepted() -> Response:
    return json_response({}, 202)


def set_status(ctx: Context, request: Request, org: str, source_id: str) -> Response:
    _source(ctx, org, source_id)
    status = request.args.get("statusType")
    if not status:
        raise missing("statusType")
    if status.upper() not in STATUS_TYPES:  # values are case-insensitive (2017 docs)
        raise invalid("statusType", f"must be one of {sorted(STATUS_TYPES)}")
    with ctx.store.write() as db:
        db.execute("UPDATE sources SET status = ? WHERE id = ?", (status.upper(), source_id))
        ctx.store.log(db, source_id, "SET_STATUS", "APPLIED", detail=status.upper())
    return json_response({}, 201)


def put_document(ctx: Context, request: Request, org: str, source_id: str) -> Response:
    _source(ctx, org, source_id)
    doc_id = request.args.get("documentId")
    if not doc_id:
        raise missing("documentId")
    query_oid = _ordering(request)
    ctype = request.args.get("compressionType")
    query_compression = validate.compression(ctype, "compressionType") if ctype else None
    doc = validate.document(json_body(request), doc_id, query_compression)
    oid = query_oid if query_oid is not None else doc["orderingId"] if doc["orderingId"] is not None else now_ms()
    ctx.enqueue("document", source_id, oid, doc)
    return accepted()


def delete_document(ctx: Context, request: Request, org: str, source_id: str) -> Response:
    _source(ctx, org, source_id)
    doc_id = request.args.get("documentId")
    if not doc_id:
        raise missing("documentId")
    oid = _ordering(request)
    payload = {"documentId": doc_id, "deleteChildren": _bool(request, "deleteChildren")}
    ctx.enqueue("delete", source_id, oid if oid is not None else now_ms(), payload)
    return accepted()


def delete_older_than(ctx: Context, request: Request, org: str, source_id: str) -> Response:
    _source(ctx, org, source_id)
    oid = _ordering(request, required=True)
    assert oid is not None
    raw_delay = request.args.get("queueDelay", "15")
    try:
        minutes = float(raw_delay)
    except ValueError:
        raise invalid("queueDelay", "must be a number of minutes") from None
    if not 0 <= minutes <= 1440:
        raise invalid("queueDelay", "must be between 0 and 1440 minutes")
    ctx.enqueue("olderthan", source_id, oid, {"queueDelay": minutes}, delay=minutes * ctx.queue_delay_scale)
    return accepted()


def create_file(ctx: Context, request: Request, org: str) -> Response:
    ctx.check_org(org)
    return json_response(ctx.files.create(ctx.base_url()), 201)


def put_batch(ctx: Context, request: Request, org: str, source_id: str) -> Response:
    _source(ctx, org, source_id)
    oid = _ordering(request)
    if not request.args.get("fileId"):
        raise missing("fileId")
    file_id = request.args["fileId"]
    if ctx.files.state(file_id) == "ready":
        # The file's JSON must at least parse; item-level problems are logged per item when applied.
        body = validate.parse_json(ctx.files.path(file_id).read_bytes())
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_JSON", "A batch file must be an object with addOrUpdate/delete arrays.")
    file_id = _file_id(ctx, request)
    ctx.enqueue("batch", source_id, oid if oid is not None else now_ms(), {"fileId": file_id})
    return accepted()


def _provider(ctx: Context, org: str, provider_id: str) -> None:
    ctx.check_org(org)
    # Lenient: an unknown provider is created on first push (the Platform API route can configure it later).
    with ctx.store.write() as db:
        db.execute(
            "INSERT OR IGNORE INTO providers(id_key, id, spec) VALUES (?,?,?)",
            (provider_id.lower(), provider_id, '{"type": "EXPANDED"}'),
        )


def put_identity(ctx: Context, request: Request, org: str, provider_id: str) -> Response:
    _provider(ctx, org, provider_id)
    body = identities.identity_body(json_body(request))
    oid = _ordering(request)
    ctx.enqueue("identity", provider_id, oid if oid is not None else now_ms(), body)
    return accepted()


def delete_identity(ctx: Context, request: Request, org: str, provider_id: str) -> Response:
    _provider(ctx, org, provider_id)
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_JSON", 'The body must be {"identity": {...}}.')
    # Lenient: the 2017 Swagger example sent a bare Identity instead of {"identity": ...}; accept both.
    ident = identities.identity(validate.ci(body, "identity") if validate.ci(body, "identity") else body)
    oid = _ordering(request)
    ctx.enqueue("identity_disable", provider_id, oid if oid is not None else now_ms(), {"identity": ident})
    return accepted()


def put_mapping(ctx: Context, request: Request, org: str, provider_id: str) -> Response:
    _provider(ctx, org, provider_id)
    body = identities.identity_body(json_body(request))
    oid = _ordering(request)
    ctx.enqueue("identity_mapping", provider_id, oid if oid is not None else now_ms(), body)
    return accepted()


def put_identity_batch(ctx: Context, request: Request, org: str, provider_id: str) -> Response:
    _provider(ctx, org, provider_id)
    oid = _ordering(request)
    file_id = _file_id(ctx, request)
    ctx.enqueue("identity_batch", provider_id, oid if oid is not None else now_ms(), {"fileId": file_id})
    return accepted()


def delete_identities_older_than(ctx: Context, request: Request, org: str, provider_id: str) -> Response:
    _provider(ctx, org, provider_id)
    oid = _ordering(request, required=True)
    assert oid is not None
    # queueDelay is sent by clients but undocumented for identities: accepted and ignored (docs/push-api-contract.md,
    # "Security identities").
    ctx.enqueue("identity_olderthan", provider_id, oid, {})
    return accepted()
