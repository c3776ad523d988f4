"""Permissions pipeline: the site's content-security option → each item's effective permissions.

everyone        anonymous access;
specific        the allowed/denied identities listed in settings, the same for every item;
content_system  the ACL the connector supplied. **Fails closed**: an item without a resolvable one is
                dropped and counted (``dropped/no_permissions``, ``dropped/unresolvable_permissions``),
                never pushed public.
Security rules add or deny identities by URL prefix or metadata value in any mode; items over the
5,000-permission limit are dropped with a reason or collapsed into virtual groups (pipelines.acl).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from crawler import signals
from crawler.context import get_context
from crawler.model import Document
from crawler.wire.vocabulary import MAX_PERMISSIONS
from pipelines import drop
from pipelines.acl import Refused, resolve

__all__ = ["MAX_PERMISSIONS", "PermissionsPipeline"]


class PermissionsPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.ctx = get_context(crawler)
        assert crawler.stats is not None  # made by Scrapy before any pipeline
        self.stats = crawler.stats
        self.security = self.ctx.site.security
        self.groups_sent: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PermissionsPipeline:
        return cls(crawler)

    # Any: Scrapy hands a pipeline whatever the spider yielded, and passes on what it returns
    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Document):
            return item
        item.effective_permissions = None  # never reuse a value a connector or earlier run left
        try:
            resolved = resolve(self.security, item, f"sites.{self.ctx.site_name}.security")
        except Refused as exc:
            raise drop(self.crawler, exc.reason, str(exc)) from None
        item.effective_permissions = resolved.permissions
        item.notes.extend(resolved.notes)
        for group in resolved.identities:
            # collapse groups go to the identity provider before this document (pipelines.push)
            if group.name not in self.groups_sent:
                self.groups_sent.add(group.name)
                self.crawler.signals.send_catch_log(signal=signals.identity_needed, identity=group)
                self.stats.inc_value("pushcrawl/permissions/collapse_groups")
        if resolved.identities:
            self.stats.inc_value("pushcrawl/permissions/collapsed")
        return item
