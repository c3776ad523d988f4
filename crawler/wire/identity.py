"""Identity items → BatchIdentityBody entries (docs/push-api-contract.md, "Security identities").

Each identity gives one ``members`` entry (its members and granted well-known identities), a ``mappings``
entry when it has aliases (its ``email`` among them, in the e-mail provider), or one ``deleted`` entry when
disabled. Its fingerprint covers exactly those
bytes, so an incremental run re-sends an identity only when something it pushes changed.
"""

from __future__ import annotations

import hashlib
import json

from crawler.model import Identity, IdentityRef, IdentityType
from crawler.wire.vocabulary import EMAIL_PROVIDER, identity_kind

# JSON values are whatever the entry holds: dicts of str and lists of such dicts
JsonDict = dict[str, object]


def _ref(ref: IdentityRef) -> JsonDict:
    out: JsonDict = {"name": ref.name, "type": identity_kind(ref.type), "additionalInfo": dict(ref.additional_info)}
    if ref.provider:
        out["provider"] = ref.provider
    return out


def _identity(item: Identity) -> JsonDict:
    return {"name": item.name, "type": identity_kind(item.type), "additionalInfo": dict(item.additional_info)}


def _dump(obj: JsonDict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entries(item: Identity) -> list[tuple[str, bytes]]:
    """(section, JSON entry) pairs of one identity for a BatchIdentityBody file."""
    ident = _identity(item)
    if item.disabled:
        return [("deleted", _dump({"identity": ident}))]
    members: JsonDict = {
        "identity": ident,
        "members": [_ref(m) for m in item.members],
        "wellKnowns": [_ref(g) for g in item.granted],
    }
    out = [("members", _dump(members))]
    aliases = list(item.mappings)
    if item.email:  # the project's model says "e-mail"; Coveo's says "an alias in the e-mail provider"
        aliases.insert(0, IdentityRef(name=item.email, type=IdentityType.USER, provider=EMAIL_PROVIDER))
    if aliases:
        out.append(("mappings", _dump({"identity": ident, "mappings": [_ref(m) for m in aliases]})))
    return out


def key(item: Identity) -> str:
    """The state store's key of an identity within its provider."""
    return f"{identity_kind(item.type)}:{item.name}"  # the batch spelling: keys written before stay valid


def fingerprint(item: Identity, parts: list[tuple[str, bytes]]) -> str:
    """What changes when anything pushed for the identity changes; "" for a disabled identity (forgotten on
    acknowledgement)."""
    if item.disabled:
        return ""
    digest = hashlib.sha256()
    for section, entry in parts:
        digest.update(section.encode() + b"\0" + entry + b"\0")
    return digest.hexdigest()


def disable_entry(identity_key: str) -> bytes:
    """The ``deleted`` entry that disables an identity known only by its state-store key."""
    kind, _, name = identity_key.partition(":")
    return _dump({"identity": {"name": name, "type": kind, "additionalInfo": {}}})
