"""Coveo's identity vocabulary, in one place: identity type names, the e-mail provider, the permission limit.

Connectors describe CMS users and groups in the project's own model (crawler.model: ``Identity`` with an
``email``, ``PermissionIdentity`` with an ``IdentityType``); what those become on the wire is decided here
and applied by the wire format (crawler.wire.identity, crawler.wire.body) and the permissions pipeline
(pipelines.acl). Facts: docs/push-api-contract.md, "Security identities" and "Permissions".
"""

from __future__ import annotations

from typing import Literal

from crawler.model import IdentityType

#: how a BatchIdentityBody entry spells an identity's type (permission models spell it as IdentityType does)
IdentityKind = Literal["USER", "GROUP", "VIRTUAL_GROUP", "UNKNOWN"]

#: the provider every Coveo organization has for e-mail identities; a user's e-mail alias goes there
EMAIL_PROVIDER = "Email Security Provider"

#: identities (allowed + denied, all levels) one item's permissions may name
MAX_PERMISSIONS = 5000

_KIND: dict[IdentityType, IdentityKind] = {
    IdentityType.USER: "USER",
    IdentityType.GROUP: "GROUP",
    IdentityType.VIRTUAL_GROUP: "VIRTUAL_GROUP",
    IdentityType.UNKNOWN: "UNKNOWN",
}


def identity_kind(kind: IdentityType) -> IdentityKind:
    """A permission's identity type as an identity batch spells it (``VirtualGroup`` → ``VIRTUAL_GROUP``)."""
    return _KIND[kind]
