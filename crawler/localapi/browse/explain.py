"""Why can or can't a user see an item: the permission walk of docs/push-api-contract.md, "Permissions", told step by
step.

The decisions come from ``security`` itself (``_level`` and ``_matches``, the functions search uses), so
this page cannot disagree with search; this module only records *which* set and identity matched, and how
the user holds that identity (themself, an alias, a group membership, a granted identity), by walking the
same identity graph as ``security.expand`` with the path kept.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from crawler.jsontypes import JSONObject
from crawler.localapi import security
from crawler.localapi.security import EMAIL_PROVIDER, Key, _key, _level, _matches


def trace(db: sqlite3.Connection, user_ids: list[JSONObject]) -> dict[Key, list[str]]:
    """Every identity the user holds -> the steps from what they gave to it (empty list: given directly)."""
    edges: dict[Key, list[tuple[Key, str]]] = defaultdict(list)
    for row in db.execute("SELECT provider, name, members, mappings, wellknowns FROM identities WHERE disabled=0"):
        me = _key(row["provider"], row["name"])
        for m in json.loads(row["members"]):
            edges[_key(m.get("provider") or row["provider"], m["name"])].append((me, "member of"))
        for m in json.loads(row["mappings"]):
            other = _key(m.get("provider") or EMAIL_PROVIDER, m["name"])
            edges[other].append((me, "alias"))
            edges[me].append((other, "alias"))
        for w in json.loads(row["wellknowns"]):
            edges[me].append((_key(w.get("provider") or row["provider"], w["name"]), "granted"))
    start = [_key(u.get("provider") or EMAIL_PROVIDER, str(u["name"])) for u in user_ids if u.get("name")]
    paths: dict[Key, list[str]] = {k: [] for k in start}
    todo = list(start)
    while todo:  # breadth first, so each identity gets its shortest explanation
        cur = todo.pop(0)
        for nxt, how in edges[cur]:
            if nxt not in paths:
                paths[nxt] = [*paths[cur], f"{how} {nxt[1]} ({nxt[0]})"]
                todo.append(nxt)
    return paths


def _perm(p: JSONObject, principal: set[Key] | None, default: str | None) -> JSONObject:
    hit = principal is not None and _matches(p, principal, default)
    return {**p, "match": hit}


def walk(
    db: sqlite3.Connection, source: JSONObject, levels: list[JSONObject] | None, user_ids: list[JSONObject] | None
) -> JSONObject:
    """The explanation for one user (``user_ids`` None: anonymous, as an API key searches)."""
    paths = trace(db, user_ids) if user_ids else {}
    principal = security.expand(db, user_ids) if user_ids else None
    default = security.default_providers(db).get(source["id"])
    held = sorted(paths.items(), key=lambda kv: (len(kv[1]), kv[0]))  # given first, then nearest
    out: JSONObject = {"levels": [], "held": held, "default_provider": default}
    if source["visibility"] == "PRIVATE":
        return out | {"visible": False, "reason": "The source is PRIVATE: its items are never shown in search."}
    if source["visibility"] == "SHARED":
        return out | {"visible": True, "reason": "The source is SHARED: every item is shown to everyone."}
    if levels is None:
        return out | {"visible": True, "reason": "The item has no permissions: everyone may see it."}
    nobody = "No level allows anonymous users" if principal is None else "No level mentions this user"
    reason, visible, deciding = f"{nobody}, so nothing allows it: no access.", False, None
    for n, level in enumerate(levels, 1):
        decision = _level(level, principal, default)
        sets = []
        for m, pset in enumerate(level["permissionSets"], 1):
            sets.append(
                {
                    "label": pset.get("name") or f"Set {m}",
                    "anonymous": pset["allowAnonymous"],
                    "allowed": [_perm(p, principal, default) for p in pset["allowedPermissions"]],
                    "denied": [_perm(p, principal, default) for p in pset["deniedPermissions"]],
                }
            )
        label = f"Level {n}" + (f" ({level['name']})" if level.get("name") else "")
        out["levels"].append({"label": label, "decision": decision, "sets": sets})
        if decision is not None and deciding is None:
            deciding, visible = n, decision
            reason = _why(label, sets, decision)
    assert visible == security.evaluate(levels, principal, default)  # one walk, two readers: they must agree
    if deciding is None and principal:
        reason += _near_miss(out["levels"], principal, default)
    return out | {"visible": visible, "reason": reason, "deciding": deciding}


def _near_miss(levels: list[JSONObject], principal: set[Key], default: str | None) -> str:
    """When no level mentions the user but one names an identity the user holds under another provider,
    say so: the same name in two providers is the commonest reason for an unexpected "no access"."""
    held = {name: provider for provider, name in principal}
    for level in levels:
        for s in level["sets"]:
            for p in s["allowed"] + s["denied"]:
                name = p["identity"].lower()
                if name in held:
                    named = p.get("securityProvider") or default
                    how = "" if p.get("securityProvider") else " (the source's default: the permission names none)"
                    return (
                        f" {level['label']} names {p['identity']} of provider {named}{how}, but the user holds"
                        f" {p['identity']} of provider {held[name]}: an identity matches only in its own provider."
                    )
    return ""


def _why(label: str, sets: list[JSONObject], allowed: bool) -> str:
    if not allowed:
        for s in sets:
            hits = [p["identity"] for p in s["denied"] if p["match"]]
            if hits:
                return f"{label} decides: {s['label']} denies {', '.join(hits)} (a denial beats any allowance)."
        missing = [s["label"] for s in sets if not s["anonymous"] and not any(p["match"] for p in s["allowed"])]
        return f"{label} decides: the user is allowed in some sets but not in {', '.join(missing)} (sets are ANDed)."
    parts = []
    for s in sets:
        hits = [p["identity"] for p in s["allowed"] if p["match"]]
        parts.append(f"{s['label']} allows {', '.join(hits) if hits else 'anonymous users'}")
    return f"{label} decides: " + "; ".join(parts) + "."
