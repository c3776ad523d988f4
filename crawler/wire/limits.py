"""Check one mapped document against the contract's limits and encode it for a batch.

The limits: docs/push-api-contract.md, "Items" and "Limits and throttling".

``prepare()`` returns the item's batch entry, or raises ``Rejected(reason, message)`` naming what is wrong —
the push pipeline turns that into a counted drop, because one invalid entry (a duplicate key, a NaN) would
make the service refuse the *whole* batch with 400 ``INVALID_JSON``.

Content placement:
    text or HTML ≤ 5 MB            → ``data``
    anything else, zlib-compressed → ``compressedBinaryData`` (base64) when the base64 is ≤ 5 MB,
                                     else its own file container (``compressedBinaryDataFileId``),
                                     up to ``container_max`` bytes compressed (256 MB), else rejected.
The compressed bytes of a container-bound item are spooled to a temporary file, not kept in memory.
"""

from __future__ import annotations

import base64
import json
import math
import re
import tempfile
import zlib
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

from crawler import defaults
from crawler.model import Document
from crawler.wire import JsonObject
from crawler.wire.body import built_of
from crawler.wire.vocabulary import MAX_PERMISSIONS

INLINE_LIMIT = defaults.INLINE_LIMIT_BYTES
CONTAINER_LIMIT = defaults.CONTAINER_LIMIT_BYTES  # 256 MB, docs/push-api-contract.md
ENVELOPE = len(b'{"addOrUpdate":[],"delete":[]}')
__all__ = ["CONTAINER_LIMIT", "INLINE_LIMIT", "MAX_PERMISSIONS", "Prepared", "Rejected", "prepare", "with_file_id"]
_EXTENSION = re.compile(r"\.[A-Za-z0-9]+")


class Rejected(Exception):
    """An item the Push API cannot take; ``reason`` is the stat name, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass
class Prepared:
    document_id: str
    fingerprint: str
    body: JsonObject  # the DocumentBody; without content when ``content_file`` holds it
    encoded: bytes | None  # the body as batch JSON (None for a container-bound item: its fileId comes later)
    content_file: IO[bytes] | None = None  # compressed content for its own container
    content_size: int = 0

    @property
    def size(self) -> int:
        return len(self.encoded) if self.encoded is not None else self.content_size


def _check_metadata(doc_id: str, body: JsonObject) -> None:
    seen: dict[str, str] = {}
    for key, value in body.items():
        if not key or not isinstance(key, str):
            raise Rejected("invalid_metadata", f"{doc_id}: empty metadata name")
        if (other := seen.get(key.lower())) is not None:
            # keys are case-insensitive and may appear once (docs/push-api-contract.md, "Items"): the service
            # would refuse the whole batch
            raise Rejected("invalid_metadata", f"{doc_id}: metadata {other!r} and {key!r} differ only in case")
        seen[key.lower()] = key
        values = value if isinstance(value, list) else [value]
        if key == "permissions":
            continue
        for v in values:
            if not isinstance(v, str | int | float | bool):
                raise Rejected(
                    "invalid_metadata",
                    f"{doc_id}: metadata {key!r} holds a {type(v).__name__}; only scalars or lists of scalars",
                )
            if isinstance(v, float) and not math.isfinite(v):
                raise Rejected("invalid_metadata", f"{doc_id}: metadata {key!r} is {v} (not valid JSON)")


def _permission_count(body: JsonObject) -> int:
    """Identities named in the body's ``permissions`` (either model, crawler.wire.body.permissions_json)."""
    perms = body.get("permissions")
    if not isinstance(perms, list):
        return 0
    sets = [s for level in perms if isinstance(level, dict) for s in level.get("permissionSets", [level])]
    return sum(len(s.get("allowedPermissions", [])) + len(s.get("deniedPermissions", [])) for s in sets)


def _size(content: bytes | str) -> int:
    return len(content) if isinstance(content, bytes) else len(content.encode("utf-8"))


def _encode(body: JsonObject) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def prepare(doc: Document, container_max: int = CONTAINER_LIMIT, inline_limit: int = INLINE_LIMIT) -> Prepared:
    """Check ``doc`` and build its batch entry. Raises Rejected. May compress: run big items off the reactor."""
    built = built_of(doc)  # the body the changes pipeline fingerprinted: checked and sent as it is
    doc_id = str(built.metadata["documentId"])
    parts = urlsplit(doc_id)
    if not parts.scheme or not (parts.netloc or parts.path) or any(c.isspace() for c in doc_id):
        raise Rejected("invalid_document_id", f"{doc_id!r}: a document id must be a URI without spaces")
    if (n := _permission_count(built.metadata)) > MAX_PERMISSIONS:
        raise Rejected("too_many_permissions", f"{doc_id}: {n} permissions, the limit is {MAX_PERMISSIONS}")
    body = dict(built.metadata)  # a copy: the content keys below are this entry's, not the built body's
    _check_metadata(doc_id, body)
    content, ext = built.content, built.ext
    if ext is not None and not _EXTENSION.fullmatch(ext):
        raise Rejected("invalid_file_extension", f"{doc_id}: file extension {ext!r} must look like '.pdf'")
    prepared = Prepared(doc_id, doc.fingerprint or "", body, None)
    if isinstance(content, str) and len(content) <= inline_limit and len(content.encode()) <= inline_limit:
        body["data"] = content
    elif content is not None:
        packed = zlib.compress(content if isinstance(content, bytes) else content.encode("utf-8"))
        body["compressionType"] = "ZLIB"
        if 4 * math.ceil(len(packed) / 3) <= inline_limit:
            body["compressedBinaryData"] = base64.b64encode(packed).decode("ascii")
        elif len(packed) <= container_max:
            spool = tempfile.TemporaryFile(prefix="pushcrawl-item-")  # noqa: SIM115 (the sender closes it)
            spool.write(packed)
            prepared.content_file, prepared.content_size = spool, len(packed)
        else:
            raise Rejected(
                "too_large",
                f"{doc_id}: {len(packed):,} bytes compressed ({_size(content):,} raw), over the "
                f"{container_max:,}-byte file container limit",
            )
    if ext is not None and content is not None:
        body["fileExtension"] = ext
    if prepared.content_file is None:
        try:
            prepared.encoded = _encode(body)
        except ValueError as exc:
            raise Rejected("invalid_metadata", f"{doc_id}: cannot be written as JSON ({exc})") from None
        if len(prepared.encoded) + ENVELOPE > container_max:
            raise Rejected(
                "too_large", f"{doc_id}: {len(prepared.encoded):,}-byte body, over the {container_max:,}-byte limit"
            )
    return prepared


def with_file_id(prepared: Prepared, file_id: str) -> bytes:
    """The batch entry of a container-bound item once its content was uploaded."""
    return _encode({**prepared.body, "compressedBinaryDataFileId": file_id})
