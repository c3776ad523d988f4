"""Permissions pipeline: the site's content-security option → each item's effective permissions.

everyone        anonymous access;
specific        the allowed/denied identities listed in settings, the same for every item;
content_system  the ACL the connector supplied. **Fails closed**: an item without one is dropped and counted,
                never pushed public. Items over the 5,000-permission limit are dropped with a reason.
"""

from __future__ import annotations

from typing import Any

from crawler.config import IdentitySpec
from crawler.context import get_context
from crawler.model import Document, IdentityType, PermissionIdentity, Permissions
from pipelines import drop

MAX_PERMISSIONS = 5000  # per item, CONTRACT.md §4


def _identity(spec: IdentitySpec) -> PermissionIdentity:
    return PermissionIdentity(
        identity=spec.identity, identity_type=IdentityType(spec.type), security_provider=spec.provider
    )


class PermissionsPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.security = get_context(crawler).site.security

    @classmethod
    def from_crawler(cls, crawler: Any) -> PermissionsPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Document):
            return item
        mode = self.security.mode
        if mode == "everyone":
            item.effective_permissions = Permissions.everyone()
        elif mode == "specific":
            allowed = [_identity(s) for s in self.security.allowed]
            denied = [_identity(s) for s in self.security.denied]
            item.effective_permissions = Permissions.single_set(allowed, denied)
        else:
            acl = item.permissions
            if acl is None or not acl.levels:
                raise drop(self.crawler, "no_permissions", f"{item.document_id}: connector supplied no ACL")
            item.effective_permissions = acl
        perms = item.effective_permissions
        if perms.identity_count() > MAX_PERMISSIONS:
            raise drop(
                self.crawler,
                "too_many_permissions",
                f"{item.document_id}: {perms.identity_count()} permissions, the limit is {MAX_PERMISSIONS}",
            )
        return item
