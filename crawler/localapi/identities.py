"""Security identities (docs/push-api-contract.md, "Security identities"): validation of identity bodies and applying
them per provider.

Identities are keyed by provider and lower-cased name. An IdentityBody (one call, or a batch's ``members``)
replaces the identity's members and granted identities (``wellKnowns``); a MappedIdentityBody (one call, or
``mappings``) replaces its aliases; disabling (one call, a batch's ``deleted``, or "older than") keeps the row,
flagged, so the Content Browser can still show it. Each identity remembers the orderingId of its last operation;
older ones are dropped.
"""

from __future__ import annotations

import json
import sqlite3

from crawler.jsontypes import JSONData, JSONObject
from crawler.localapi.apierror import ApiError, bad_json
from crawler.localapi.files import FileContainers
from crawler.localapi.store import Store, now_ms
from crawler.localapi.validate import ci, identity_type, parse_json


def identity(value: JSONData, *, with_provider: bool = False) -> JSONObject:
    if not isinstance(value, dict) or not isinstance(ci(value, "name"), str) or not ci(value, "name"):
        raise bad_json(f"An identity needs a non-empty 'name', got {value!r}.")
    info = ci(value, "additionalInfo") or {}
    if not isinstance(info, dict):
        raise bad_json("'additionalInfo' must be an object of strings.")
    out: JSONObject = {
        "name": ci(value, "name"),
        "type": identity_type(ci(value, "type"), "USER"),
        "additionalInfo": {str(k): str(v) for k, v in info.items()},
    }
    provider = ci(value, "provider")
    if with_provider and isinstance(provider, str) and provider:
        out["provider"] = provider
    return out


def _list(body: JSONObject, key: str, *, with_provider: bool = False) -> list[JSONObject]:
    value = ci(body, key) or []
    if not isinstance(value, list):
        raise bad_json(f"'{key}' must be an array of identities.")
    return [identity(v, with_provider=with_provider) for v in value]


def identity_body(body: JSONData) -> JSONObject:
    """IdentityBody / MappedIdentityBody / BaseIdentityBody, normalised (missing lists become [])."""
    if not isinstance(body, dict) or ci(body, "identity") is None:
        raise bad_json("The body needs an 'identity' object.")
    return {
        "identity": identity(ci(body, "identity")),
        "members": _list(body, "members", with_provider=True),
        "mappings": _list(body, "mappings", with_provider=True),
        "wellKnowns": _list(body, "wellKnowns", with_provider=True),
    }


class IdentityApplier:
    def __init__(self, store: Store, files: FileContainers) -> None:
        self.store = store
        self.files = files

    def _current(self, db: sqlite3.Connection, provider: str, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM identities WHERE provider_key=? AND name_key=?", (provider.lower(), name.lower())
        ).fetchone()
        return row

    def _fresh(self, db: sqlite3.Connection, provider: str, name: str, oid: int, op: str) -> bool:
        row = self._current(db, provider, name)
        if row is not None and oid < row["ordering_id"]:
            self.store.log(
                db,
                provider,
                op,
                "OUT_OF_SEQUENCE_OPERATION",
                document_id=name,
                ordering_id=oid,
                detail=f"a later operation ({row['ordering_id']}) was already applied",
            )
            return False
        return True

    def upsert(self, db: sqlite3.Connection, provider: str, body: JSONObject, oid: int, *, mapping: bool) -> None:
        ident = body["identity"]
        op = "ADD_OR_UPDATE_MAPPING" if mapping else "ADD_OR_UPDATE_IDENTITY"
        if not self._fresh(db, provider, ident["name"], oid, op):
            return
        row = self._current(db, provider, ident["name"])
        members = json.loads(row["members"]) if row is not None and mapping else body["members"]
        mappings = body["mappings"] if mapping else (json.loads(row["mappings"]) if row is not None else [])
        wellknowns = body["wellKnowns"]
        if mapping and not wellknowns and row is not None:
            wellknowns = json.loads(row["wellknowns"])  # an alias update does not clear granted identities
        db.execute(
            "INSERT OR REPLACE INTO identities(provider_key, name_key, provider, name, type, info, members,"
            " mappings, wellknowns, ordering_id, disabled, updated_ms) VALUES (?,?,?,?,?,?,?,?,?,?,0,?)",
            (
                provider.lower(),
                ident["name"].lower(),
                provider,
                ident["name"],
                ident["type"],
                json.dumps(ident["additionalInfo"]),
                json.dumps(members),
                json.dumps(mappings),
                json.dumps(wellknowns),
                oid,
                now_ms(),
            ),
        )
        self.store.log(db, provider, op, "APPLIED", document_id=ident["name"], ordering_id=oid)

    def disable(self, db: sqlite3.Connection, provider: str, ident: JSONObject, oid: int) -> None:
        if not self._fresh(db, provider, ident["name"], oid, "DISABLE_IDENTITY"):
            return
        cur = db.execute(
            "UPDATE identities SET disabled=1, ordering_id=?, updated_ms=? WHERE provider_key=? AND name_key=?",
            (oid, now_ms(), provider.lower(), ident["name"].lower()),
        )
        outcome = "DISABLED" if cur.rowcount else "NOT_FOUND"
        self.store.log(db, provider, "DISABLE_IDENTITY", outcome, document_id=ident["name"], ordering_id=oid)

    def older_than(self, db: sqlite3.Connection, provider: str, threshold: int) -> None:
        cur = db.execute(
            "UPDATE identities SET disabled=1, updated_ms=? WHERE provider_key=? AND ordering_id < ? AND disabled=0",
            (now_ms(), provider.lower(), threshold),
        )
        self.store.log(
            db,
            provider,
            "DISABLE_OLDER_THAN",
            "DISABLED",
            ordering_id=threshold,
            detail=f"{cur.rowcount} identity(ies) disabled",
        )

    def batch(self, db: sqlite3.Connection, provider: str, file_id: str, oid: int) -> None:
        try:
            body = parse_json(self.files.path(file_id).read_bytes())
        except (OSError, ApiError) as exc:
            self.store.log(db, provider, "IDENTITY_BATCH", "ERROR", ordering_id=oid, detail=f"file {file_id}: {exc}")
            return
        finally:
            self.files.discard(file_id)
        for key, mapping in (("members", False), ("mappings", True)):
            for entry in ci(body, key) or []:
                try:
                    self.upsert(db, provider, identity_body(entry), oid, mapping=mapping)
                except ApiError as exc:
                    self.store.log(db, provider, "IDENTITY_BATCH", "REJECTED", ordering_id=oid, detail=exc.message)
        for entry in ci(body, "deleted") or []:
            try:
                self.disable(db, provider, identity(ci(entry, "identity") if isinstance(entry, dict) else None), oid)
            except ApiError as exc:
                self.store.log(db, provider, "IDENTITY_BATCH", "REJECTED", ordering_id=oid, detail=exc.message)
