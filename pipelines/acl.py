"""Effective permissions of one item from the site's security settings (pure functions; see permissions.py).

* ``everyone``: one public set; ``specific``: one set of the listed allowed/denied identities;
  ``content_system``: a copy of the connector's ACL, which must be resolvable (levels with sets, named
  identities) or the item is refused — never made public.
* Matching security rules form one extra level placed **first**: its denied identities are refused whatever
  the item's own ACL says, its allowed identities are admitted, everyone else falls through to the item's
  levels (docs/push-api-contract.md, "Permissions"). ``private: true`` also removes anonymous access. Rules never *add*
  anonymous access, so a non-public source ACL can never become public (tests/test_acl_property.py).
* Over ``MAX_PERMISSIONS`` identities the item is dropped, or with ``over_limit: collapse`` each large
  allowed/denied list is replaced by one virtual group whose members are pushed to the identity provider.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from crawler.config import IdentitySpec, SecurityConfig, SecurityRule
from crawler.fieldrules import normalise_name
from crawler.model import (
    Document,
    Identity,
    IdentityRef,
    IdentityType,
    PermissionIdentity,
    PermissionLevel,
    Permissions,
    PermissionSet,
)
from crawler.wire.vocabulary import MAX_PERMISSIONS

RULES_LEVEL = "pushcrawl-rules"


class Refused(Exception):
    """The item cannot be given safe permissions; ``reason`` is the drop stat name."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class Resolved:
    permissions: Permissions
    identities: list[Identity] = field(default_factory=list)  # collapse groups to push
    notes: list[str] = field(default_factory=list)


def identity(spec: IdentitySpec) -> PermissionIdentity:
    return PermissionIdentity(
        identity=spec.identity, identity_type=IdentityType(spec.type), security_provider=spec.provider
    )


def _values(doc: Document, name: str) -> list[str]:
    key = normalise_name(name)
    raw = doc.fields.get(key)
    if raw is None:
        raw = next((v for k, v in doc.metadata.items() if normalise_name(k) == key), None)
    if raw is None:
        return []
    return [str(v).lower() for v in (raw if isinstance(raw, list) else [raw])]


def matches(rule: SecurityRule, doc: Document) -> bool:
    cond = rule.when
    if cond.url_prefix:
        uris = [doc.document_id, doc.clickable_uri or doc.document_id]
        if not any(u.startswith(p) for u in uris for p in cond.url_prefix):
            return False
    for name, wanted in (cond.metadata or {}).items():
        have = _values(doc, name)
        if not any(w.lower() in have for w in wanted):
            return False
    return True


def _check_source(acl: Permissions | None, doc_id: str) -> Permissions:
    if acl is None or not acl.levels:
        raise Refused("no_permissions", f"{doc_id}: the connector supplied no ACL (content_system mode)")
    for lvl in acl.levels:
        if not lvl.sets:
            raise Refused("unresolvable_permissions", f"{doc_id}: ACL level {lvl.name!r} has no permission set")
        for s in lvl.sets:
            if any(not p.identity.strip() for p in (*s.allowed, *s.denied)):
                raise Refused("unresolvable_permissions", f"{doc_id}: ACL names an identity with an empty name")
    return acl.model_copy(deep=True)


def _unique(idents: list[PermissionIdentity]) -> list[PermissionIdentity]:
    return list({p.key(): p for p in idents}.values())


def base_permissions(security: SecurityConfig, doc: Document) -> Permissions:
    if security.mode == "everyone":
        return Permissions.everyone()
    if security.mode == "specific":
        return Permissions.single_set(
            _unique([identity(s) for s in security.allowed]), _unique([identity(s) for s in security.denied])
        )
    return _check_source(doc.permissions, doc.document_id)


def _collapse(idents: list[PermissionIdentity], out: list[Identity]) -> list[PermissionIdentity]:
    if len(idents) <= 1:
        return idents
    keys = sorted(f"{p.identity_type.value}:{p.security_provider or ''}:{p.identity}" for p in idents)
    name = "pushcrawl-acl-" + hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()[:20]
    members = [IdentityRef(name=p.identity, type=p.identity_type) for p in idents]
    out.append(Identity(name=name, type=IdentityType.VIRTUAL_GROUP, members=members))
    return [PermissionIdentity(identity=name, identity_type=IdentityType.VIRTUAL_GROUP)]


def resolve(security: SecurityConfig, doc: Document, label: str = "security") -> Resolved:
    """The item's effective permissions; raises Refused when it must not be pushed."""
    perms = base_permissions(security, doc)
    result = Resolved(perms)
    hits = [(i, r) for i, r in enumerate(security.rules) if matches(r, doc)]
    if any(r.private for _, r in hits):
        for lvl in perms.levels:
            for s in lvl.sets:
                s.allow_anonymous = False
            lvl.sets = [s for s in lvl.sets if s.allowed or s.denied]  # a set nobody can satisfy says nothing
        perms.levels = [lvl for lvl in perms.levels if lvl.sets]
    allow = _unique([identity(s) for _, r in hits for s in r.allow])
    deny = _unique([identity(s) for _, r in hits for s in r.deny])
    if allow or deny:
        perms.levels.insert(0, PermissionLevel(name=RULES_LEVEL, sets=[PermissionSet(allowed=allow, denied=deny)]))
        # a named first level switches the body to the complete model; name the item's own levels too
        for i, lvl in enumerate(perms.levels[1:], 1):
            lvl.name = lvl.name or f"level-{i}"
    if len(perms.levels) == 1 and perms.levels[0].name == RULES_LEVEL:
        perms.levels[0].name = None  # only the rules are left (private): the simplified model says it all
    result.notes += [f"{label}.rules[{i}] applied" for i, _ in hits]
    if perms.is_empty():
        raise Refused("no_access", f"{doc.document_id}: the permissions grant access to nobody")
    count = perms.identity_count()
    if count > MAX_PERMISSIONS and security.over_limit == "collapse":
        for lvl in perms.levels:
            for s in lvl.sets:
                s.allowed = _collapse(s.allowed, result.identities)
                s.denied = _collapse(s.denied, result.identities)
        result.notes.append(f"{count} permissions collapsed into {len(result.identities)} virtual group(s)")
        count = perms.identity_count()
    if count > MAX_PERMISSIONS:
        raise Refused(
            "too_many_permissions",
            f"{doc.document_id}: {count} permissions, the limit is {MAX_PERMISSIONS} "
            "(set security.over_limit: collapse to push them as virtual groups)",
        )
    return result
