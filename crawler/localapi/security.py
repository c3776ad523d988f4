"""Permission evaluation (docs/push-api-contract.md, "Permissions") and expansion of a user into all the identities
they hold ("Security identities").

A principal is a set of identity keys ``(provider, name)`` lower-cased. ``None`` is the anonymous user.
Identity types are not compared: names are unique per provider (same doc), so the type adds nothing but a way
to miss a match because of a spelling (``VirtualGroup`` vs ``VIRTUAL_GROUP``). That is the lenient reading.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from crawler.jsontypes import JSONObject

Key = tuple[str, str]
ANY_PROVIDER = "*"
EMAIL_PROVIDER = "Email Security Provider"


def _key(provider: str | None, name: str) -> Key:
    return ((provider or ANY_PROVIDER).lower(), name.lower())


def _matches(perm: JSONObject, principal: set[Key], default_provider: str | None) -> bool:
    provider = perm.get("securityProvider") or default_provider
    if provider is None:
        # No provider named and none attached to the source: match the name in any provider (lenient).
        name = perm["identity"].lower()
        return any(n == name for _, n in principal)
    return _key(provider, perm["identity"]) in principal


def _level(level: JSONObject, principal: set[Key] | None, default_provider: str | None) -> bool | None:
    """True allowed, False denied, None when the level does not mention the user (inconclusive)."""
    mentioned = False
    all_ok = True
    for pset in level["permissionSets"]:
        denied = principal is not None and any(
            _matches(p, principal, default_provider) for p in pset["deniedPermissions"]
        )
        if denied:
            return False  # deny beats allow, in any set of the level (and even over allowAnonymous)
        allowed = pset["allowAnonymous"] or (
            principal is not None and any(_matches(p, principal, default_provider) for p in pset["allowedPermissions"])
        )
        mentioned = mentioned or allowed
        all_ok = all_ok and allowed
    if all_ok and level["permissionSets"]:
        return True
    # Allowed in some set but not all: the level mentions the user and the AND of its sets fails.
    return False if mentioned else None


def evaluate(levels: list[JSONObject] | None, principal: set[Key] | None, default_provider: str | None = None) -> bool:
    """Whether ``principal`` may see an item with these permission levels (None = no permissions = public)."""
    if levels is None:
        return True
    for level in levels:
        decision = _level(level, principal, default_provider)
        if decision is not None:
            return decision
    return False  # nothing decided: no access


def expand(db: sqlite3.Connection, user_ids: list[JSONObject]) -> set[Key]:
    """All identities a user holds: the given ones, groups they are members of (nested), aliases
    (mappings, followed both ways) and granted identities (wellKnowns), to a fixed point."""
    member_of: dict[Key, set[Key]] = defaultdict(set)
    linked: dict[Key, set[Key]] = defaultdict(set)  # aliases (both directions) and granted identities
    for row in db.execute("SELECT provider, name, members, mappings, wellknowns FROM identities WHERE disabled=0"):
        me = _key(row["provider"], row["name"])
        for m in json.loads(row["members"]):
            member_of[_key(m.get("provider") or row["provider"], m["name"])].add(me)
        for m in json.loads(row["mappings"]):
            other = _key(m.get("provider") or EMAIL_PROVIDER, m["name"])
            linked[other].add(me)
            linked[me].add(other)
        for w in json.loads(row["wellknowns"]):
            linked[me].add(_key(w.get("provider") or row["provider"], w["name"]))
    start = {_key(u.get("provider") or EMAIL_PROVIDER, str(u["name"])) for u in user_ids if u.get("name")}
    seen = set(start)
    todo = list(start)
    while todo:
        cur = todo.pop()
        for nxt in member_of[cur] | linked[cur]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def default_providers(db: sqlite3.Connection) -> dict[str, str]:
    """source id -> the first security provider attached to it (used when a permission names none)."""
    result: dict[str, str] = {}
    for row in db.execute("SELECT id, sources FROM providers ORDER BY rowid"):
        for source_id in json.loads(row["sources"]):
            result.setdefault(source_id, row["id"])
    return result
