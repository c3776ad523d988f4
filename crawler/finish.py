"""End of a run: decide completeness, apply deletions under the safety rules, commit the cursor.

Data-safety rule 1: a full run sweeps (deletes what it did not push) only when the spider finished normally,
every listing page was fetched and no error was counted. Deletions the connector positively reported, and
ids missing from a *complete* id listing, are applied in any mode. Every deletion set passes the mass-deletion
guard: more than ``max_deletions`` (default 10 % of the site's known items) is refused unless allowed.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from crawler import defaults
from crawler.context import RunContext
from crawler.errors import RunRefused
from crawler.model import Deletion
from crawler.targets import OpenTarget, source_name_for

logger = logging.getLogger(__name__)


@dataclass
class DeletionPlan:
    explicit: list[Deletion] = field(default_factory=list)  # reported gone, or missing from a complete listing
    sweep: list[str] = field(default_factory=list)  # known ids a full run did not push again
    sweep_by_ordering_id: bool = False  # one olderthan call (exclusive source) instead of explicit deletes
    skipped_reason: str = ""

    @property
    def ids(self) -> list[str]:
        return [d.document_id for d in self.explicit] + self.sweep


def deletion_limit(ctx: RunContext, known: int) -> int:
    value = ctx.site.max_deletions
    if value is None:
        value = defaults.MAX_DELETIONS_RATIO
    if value < 1:
        return max(1, math.floor(value * known))
    return int(value)


def source_is_exclusive(ctx: RunContext, target: OpenTarget | None) -> bool:
    """True when no other site of the settings pushes to the same target and source."""
    if target is None:
        return True
    for name in ctx.settings.sites:
        if name == ctx.site_name:
            continue
        other_target, other = ctx.settings.target_for(name)
        if other_target == ctx.target_name and source_name_for(ctx.settings, name, other) == target.source_name:
            return False
    return True


def plan_deletions(
    ctx: RunContext, spider: Any, complete: bool, incomplete_why: str, target: OpenTarget | None
) -> DeletionPlan:
    plan = DeletionPlan(explicit=list(ctx.deletions))
    if not complete:
        if ctx.mode == "full" or getattr(spider, "lists_all_ids", False):
            plan.skipped_reason = f"run not proven complete ({incomplete_why}): nothing swept"
        return plan
    known = ctx.state.fingerprints(ctx.scope)
    if getattr(spider, "lists_all_ids", False):
        listed = spider.listed_ids
        reported = {d.document_id for d in plan.explicit}
        for doc_id in sorted(set(known) - listed - reported):
            plan.explicit.append(Deletion(document_id=doc_id, reason="missing from complete listing"))
    if ctx.mode == "full":
        already = {d.document_id for d in plan.explicit}
        plan.sweep = [d for d in ctx.state.items_not_acked_since(ctx.scope, ctx.ordering_id) if d not in already]
        plan.sweep_by_ordering_id = source_is_exclusive(ctx, target)
    return plan


def guard(ctx: RunContext, plan: DeletionPlan, allow_mass: bool) -> None:
    known = ctx.state.item_count(ctx.scope)
    count = len(plan.ids)
    limit = deletion_limit(ctx, known)
    if count > limit and not allow_mass:
        raise RunRefused(
            f"site {ctx.site_name}: this run would delete {count} of {known} known items, more than the limit "
            f"of {limit} (max_deletions). Nothing was deleted. If the removals are expected, rerun with "
            f"--allow-mass-deletion, or raise sites.{ctx.site_name}.max_deletions in settings.yaml."
        )


def apply_deletions(ctx: RunContext, plan: DeletionPlan, target: OpenTarget) -> int:
    """Send the planned deletions; forget the ids in the state store once acknowledged."""
    client, source_id = target.client, target.source_id
    deleted = 0
    explicit = plan.explicit + ([] if plan.sweep_by_ordering_id else [Deletion(document_id=d) for d in plan.sweep])
    for start in range(0, len(explicit), ctx.settings.push.batch_max_items):
        chunk = explicit[start : start + ctx.settings.push.batch_max_items]
        payload = json.dumps(
            {
                "addOrUpdate": [],
                "delete": [{"documentId": d.document_id, "deleteChildren": d.delete_children} for d in chunk],
            }
        ).encode("utf-8")
        client.upload_batch(source_id, payload, ctx.ordering_id)
        ctx.state.forget_items(ctx.scope, [d.document_id for d in chunk])
        for d in chunk:
            if d.delete_children:
                ctx.state.forget_children(ctx.scope, d.document_id)
        deleted += len(chunk)
    if plan.sweep_by_ordering_id and plan.sweep:
        # The local twin applies operations in arrival order, so no queue delay is needed there; Coveo's
        # default (15 min) lets in-flight updates land before the sweep.
        client.delete_older_than(source_id, ctx.ordering_id, 0 if target.is_local else None)
        ctx.state.forget_items(ctx.scope, plan.sweep)
        deleted += len(plan.sweep)
    return deleted
