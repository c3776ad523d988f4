"""Mapped items → Push API JSON: DocumentBody, delete entries, permissions.

The shapes: docs/push-api-contract.md, "Items" and "Permissions".

Only the *mapped* side of a Document is sent: ``fields`` (already named by the fields pipeline) plus the
reserved keys built here. Binary content is zlib-compressed and base64-encoded inline (``compressionType``
in the body, the batch rule); text goes to ``data``.

A document's body is built **once** (``freeze``, by the changes pipeline when it fingerprints the item) and
carried on the item to the sink: the limits are checked on that body and that body is what is sent, so what
was fingerprinted and what was pushed cannot differ — even if a pipeline after the changes one edits the
item (such edits are not sent: a user's pipeline that changes documents goes before 400).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from dataclasses import dataclass

from crawler.model import Deletion, Document, PermissionIdentity, Permissions, PermissionSet
from crawler.wire import JsonObject

#: keys the Push API reserves (case-insensitive); metadata may never use them
RESERVED_KEYS = frozenset(
    k.lower()
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
)

INLINE_LIMIT = 5 * 1024 * 1024  # inline data / compressedBinaryData, docs/push-api-contract.md, "Items"


def metadata_body(doc: Document) -> JsonObject:
    """The DocumentBody without its content: fields, ``documentId``, ``parentId``, ``permissions``."""
    body: JsonObject = {k: v for k, v in doc.fields.items() if k.lower() not in RESERVED_KEYS}
    body["documentId"] = doc.document_id
    if doc.parent_id:
        body["parentId"] = doc.parent_id
    if doc.effective_permissions is not None:
        body["permissions"] = permissions_json(doc.effective_permissions)
    return body


def content_of(doc: Document) -> tuple[bytes | str | None, str | None]:
    """(content, fileExtension): raw bytes for binary content, a str for text or HTML, None for none."""
    if doc.binary is not None:
        return doc.binary, doc.file_extension
    if doc.text is not None:
        # extracted text: tell the converter it is plain text whatever the page's original type
        return doc.text, ".txt"
    if doc.html is not None:
        return doc.html, ".html"
    return None, None


def _identity(p: PermissionIdentity) -> JsonObject:
    out: JsonObject = {"identity": p.identity, "identityType": p.identity_type.value}
    if p.security_provider:
        out["securityProvider"] = p.security_provider
    return out


def _set(s: PermissionSet) -> JsonObject:
    out: JsonObject = {
        "allowAnonymous": s.allow_anonymous,
        "allowedPermissions": [_identity(p) for p in s.allowed],
        "deniedPermissions": [_identity(p) for p in s.denied],
    }
    if s.name:
        out["name"] = s.name
    return out


def permissions_json(perms: Permissions) -> list[JsonObject]:
    """Simplified model (list of sets) for one unnamed level, complete model (levels) otherwise."""
    if len(perms.levels) == 1 and not perms.levels[0].name:
        return [_set(s) for s in perms.levels[0].sets]
    return [
        {"name": lvl.name or f"level-{i + 1}", "permissionSets": [_set(s) for s in lvl.sets]}
        for i, lvl in enumerate(perms.levels)
    ]


@dataclass(frozen=True)
class Built:
    """A document's DocumentBody as built once: metadata (reserved keys included, no content), the content
    as it is (bytes, str or None) and its file extension. The content is not encoded yet: where it goes
    (inline, base64, a file container) is the limits' decision (crawler.wire.limits)."""

    metadata: JsonObject
    content: bytes | str | None
    ext: str | None

    def fingerprint(self) -> str:
        """sha256 over the metadata, permissions and a digest of the raw content.

        The content is hashed as it is rather than as it would be sent: compressing and base64-encoding a
        20 MB PDF only to hash it would hold Scrapy's reactor thread for no benefit (the encoding is
        deterministic).
        """
        raw = self.content if isinstance(self.content, bytes) else (self.content or "").encode("utf-8")
        body = {
            **self.metadata,
            "__content__": [hashlib.sha256(raw).hexdigest(), isinstance(self.content, bytes), self.ext],
        }
        blob = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()


def build(doc: Document) -> Built:
    """Build ``doc``'s body from the item as it is now (``freeze`` keeps it; this does not)."""
    content, ext = content_of(doc)
    return Built(metadata_body(doc), content, ext)


def freeze(doc: Document) -> Built:
    """Build ``doc``'s body and keep it on the item: from now on ``built_of`` returns this one."""
    built = build(doc)
    doc._built = built
    return built


def built_of(doc: Document) -> Built:
    """The body ``freeze`` kept, or one built now (a run without the changes pipeline, ``preview``)."""
    return doc._built if isinstance(doc._built, Built) else build(doc)


def document_body(doc: Document) -> JsonObject:
    """The DocumentBody of a mapped document, content inline, ``documentId`` included (batch form).

    This is the form ``--dry-run`` and ``preview`` print; what is sent applies the contract's limits on top
    (crawler.wire.limits: large content moves to its own file container).
    """
    built = built_of(doc)
    body, content, ext = dict(built.metadata), built.content, built.ext
    if isinstance(content, bytes):
        body["compressedBinaryData"] = base64.b64encode(zlib.compress(content)).decode("ascii")
        body["compressionType"] = "ZLIB"
    elif content is not None:
        body["data"] = content
    if ext and content is not None:
        body["fileExtension"] = ext
    return body


def delete_entry(item: Deletion) -> JsonObject:
    return {"documentId": item.document_id, "deleteChildren": item.delete_children}
