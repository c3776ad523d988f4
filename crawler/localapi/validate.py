"""Request validation for items, written from docs/push-api-contract.md, "Items" and "Permissions" (independent of
the Push API client).

``parse_json`` rejects duplicate keys case-insensitively (Coveo treats all keys case-insensitively, a key may
appear once). ``document`` turns a DocumentBody into a normalised, JSON-serialisable dict the worker applies
later; ``permissions`` turns either permission shape into the complete model (a list of levels).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import NoReturn

from crawler.jsontypes import JSONData, JSONObject
from crawler.localapi.apierror import ApiError, bad_json, invalid, too_large

MAX_INLINE = 5 * 1024 * 1024
RESERVED = {
    k.lower(): k
    for k in (
        "compressedBinaryData",
        "compressedBinaryDataFileId",
        "compressionType",
        "data",
        "documentId",
        "fileExtension",
        "orderingId",
        "parentId",
        "permissions",
    )
}
COMPRESSIONS = {"UNCOMPRESSED", "DEFLATE", "GZIP", "LZMA", "ZLIB"}
IDENTITY_TYPES = {"USER": "USER", "GROUP": "GROUP", "VIRTUALGROUP": "VIRTUAL_GROUP", "UNKNOWN": "UNKNOWN"}


def _no_duplicates(pairs: list[tuple[str, JSONData]]) -> JSONObject:
    seen: set[str] = set()
    for key, _ in pairs:
        if key.lower() in seen:
            raise bad_json(f"The key '{key}' appears more than once (keys are case-insensitive).")
        seen.add(key.lower())
    return dict(pairs)


def not_a_number(name: str) -> NoReturn:
    """``parse_constant`` of every decoder of pushed JSON: Python's json reads NaN and Infinity, JSON has no
    such numbers (Coveo's parser refuses them, and SQLite's JSON functions refuse an item stored with one)."""
    raise bad_json(f"The body is not valid JSON: {name} is not a JSON number.")


def parse_json(raw: bytes) -> JSONData:
    try:
        return json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_no_duplicates, parse_constant=not_a_number)
    except ApiError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad_json(f"The body is not valid JSON: {exc}") from None


def ci(obj: JSONObject, key: str, default: JSONData = None) -> JSONData:
    """Case-insensitive lookup (keys are already known to be unique case-insensitively)."""
    low = key.lower()
    for k, v in obj.items():
        if k.lower() == low:
            return v
    return default


def compression(value: object, where: str) -> str:
    # Lenient: the current docs say case-sensitive UPPER, the 2017 docs used PascalCase; accept any casing.
    if not isinstance(value, str) or value.upper() not in COMPRESSIONS:
        raise invalid(where, f"must be one of {sorted(COMPRESSIONS)}, got {value!r}")
    return value.upper()


def identity_type(value: object, default: str = "UNKNOWN") -> str:
    # `VirtualGroup`, `VIRTUAL_GROUP`, `virtual_group` are the same type (docs/push-api-contract.md, "Permissions").
    if value is None:
        return default
    norm = str(value).replace("_", "").upper()
    if norm not in IDENTITY_TYPES:
        raise bad_json(f"Unknown identity type {value!r}; expected User, Group, VirtualGroup or Unknown.")
    return IDENTITY_TYPES[norm]


def _perm(entry: JSONData) -> JSONObject:
    low = {k.lower(): v for k, v in entry.items()} if isinstance(entry, dict) else {}
    if not isinstance(low.get("identity"), str):
        raise bad_json(f"A permission must be an object with an 'identity' string, got {entry!r}.")
    provider = low.get("securityprovider")
    return {
        "identity": low.get("identity"),
        "identityType": identity_type(low.get("identitytype")),
        "securityProvider": provider if isinstance(provider, str) and provider else None,
    }


def _perm_set(entry: JSONData) -> JSONObject:
    if not isinstance(entry, dict):
        raise bad_json("A permission set must be an object.")
    low = {k.lower(): v for k, v in entry.items()}
    allowed, denied = low.get("allowedpermissions") or [], low.get("deniedpermissions") or []
    if not isinstance(allowed, list) or not isinstance(denied, list):
        raise bad_json("allowedPermissions and deniedPermissions must be arrays.")
    return {
        "name": low.get("name"),
        "allowAnonymous": bool(low.get("allowanonymous", False)),
        "allowedPermissions": [_perm(p) for p in allowed],
        "deniedPermissions": [_perm(p) for p in denied],
    }


def permissions(value: JSONData) -> list[JSONObject] | None:
    """Normalise to levels ``[{"name", "permissionSets": [...]}]``; the simplified shape is one level."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_json("'permissions' must be an array of permission sets or permission levels.")
    if value and all(isinstance(e, dict) and ci(e, "permissionSets") is not None for e in value):
        levels = []
        for level in value:
            sets = ci(level, "permissionSets")
            if not isinstance(sets, list):
                raise bad_json("'permissionSets' must be an array.")
            levels.append({"name": ci(level, "name"), "permissionSets": [_perm_set(s) for s in sets]})
        return levels
    return [{"name": None, "permissionSets": [_perm_set(s) for s in value]}]


def _metadata_value(key: str, value: JSONData) -> JSONData:
    scalar = (str, int, float, bool)
    if value is None or isinstance(value, scalar):
        return value
    if isinstance(value, list):
        if all(isinstance(v, scalar) for v in value):
            return value
        raise bad_json(f"Metadata '{key}' holds a nested array or object; only scalars or arrays of scalars.")
    raise bad_json(f"Metadata '{key}' holds an object; metadata values must be scalars or arrays of scalars.")


def document(body: JSONData, document_id: str | None = None, query_compression: str | None = None) -> JSONObject:
    """Validate one DocumentBody; ``document_id`` comes from the query string for a single push."""
    if not isinstance(body, dict):
        raise bad_json("An item must be a JSON object.")
    low = {k.lower(): v for k, v in body.items()}  # keys are case-insensitive and unique (parse_json)
    body_id = low.get("documentid")
    if document_id is None:
        if not isinstance(body_id, str) or not body_id:
            raise ApiError(400, "INVALID_JSON", "Each item needs a non-empty 'documentId'.")
        document_id = body_id
    elif body_id is not None and body_id != document_id:
        raise invalid("documentId", "the body's documentId differs from the query string's")
    metadata: JSONObject = {}
    for key, value in body.items():
        if key.lower() not in RESERVED:
            metadata[key] = _metadata_value(key, value)
    data, inline, file_id = (
        low.get("data"),
        low.get("compressedbinarydata"),
        low.get("compressedbinarydatafileid"),
    )
    given = [
        n
        for n, v in (
            ("data", data),
            ("compressedBinaryData", inline),
            ("compressedBinaryDataFileId", file_id),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise bad_json(f"Use only one of data, compressedBinaryData, compressedBinaryDataFileId (got {given}).")
    content: JSONObject | None = None
    body_compression = low.get("compressiontype")
    # Lenient: JS/PY clients put compressionType in the body even for single pushes; the body wins if set.
    ctype = (
        compression(body_compression, "compressionType")
        if body_compression is not None
        else (query_compression or "ZLIB")
    )
    if data is not None:
        if not isinstance(data, str):
            raise bad_json("'data' must be a string.")
        if len(data.encode()) > MAX_INLINE:
            raise too_large("'data'", MAX_INLINE)
        content = {"kind": "data", "value": data}
    elif inline is not None:
        if not isinstance(inline, str):
            raise bad_json("'compressedBinaryData' must be a base64 string.")
        if len(inline) > MAX_INLINE * 4 // 3 + 4:
            raise too_large("'compressedBinaryData'", MAX_INLINE)
        try:
            base64.b64decode(inline, validate=True)
        except (binascii.Error, ValueError):
            raise bad_json("'compressedBinaryData' is not valid base64.") from None
        content = {"kind": "binary", "value": inline, "compressionType": ctype}
    elif file_id is not None:
        if not isinstance(file_id, str) or not file_id:
            raise bad_json("'compressedBinaryDataFileId' must be a fileId string.")
        content = {"kind": "file", "value": file_id, "compressionType": ctype}
    ext = low.get("fileextension")
    if ext is not None:
        # Lenient: accept a missing leading dot (clients are told to send one) and normalise.
        if not isinstance(ext, str) or not re.fullmatch(r"\.?[A-Za-z0-9]+", ext):
            raise bad_json(f"'fileExtension' must look like '.html', got {ext!r}.")
        ext = ext if ext.startswith(".") else "." + ext
    parent = low.get("parentid")
    if parent is not None and not isinstance(parent, str):
        raise bad_json("'parentId' must be a string.")
    ordering = low.get("orderingid")
    if ordering is not None and (
        isinstance(ordering, bool) or not isinstance(ordering, int) or not 0 <= ordering < 2**63
    ):
        raise bad_json("'orderingId' must be a non-negative integer.")
    return {
        "documentId": document_id,
        "metadata": metadata,
        "content": content,
        "fileExtension": ext,
        "parentId": parent,
        "permissions": permissions(low.get("permissions")),
        "orderingId": ordering,
    }
