"""End of a run: decide completeness, apply deletions under the safety rules, commit the cursor.

Data-safety rule 1: a full run sweeps (deletes what it did not push) only when the spider finished normally,
every listing page was fetched and no error was counted — counted by our pipelines, by the connector, or
logged at ERROR by anything else (an item that crashed a pipeline is an error, not a silent gap that the sweep
would turn into a deletion). Deletions the connector positively reported, and ids missing from a *complete*
id listing, are applied in any mode. Every deletion set passes the mass-deletion guard: more than
``max_deletions`` (default 10 % of the site's known items) is refused unless allowed.

The sweep threshold is the full run's ``sweep_from``: its own start, or the start of the unfinished full
reindex it resumes (see crawler.state), so items a killed run already pushed are not swept.
A dry run computes the same plan from what it saw, prints it, and deletes nothing.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from crawler import defaults, identities, indexfields
from crawler.context import RunContext
from crawler.errors import RunRefused
from crawler.model import Deletion
from crawler.report import RunReport, apply_field_stats, apply_render_stats, counts_from_stats
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


def incomplete_reasons(ctx: RunContext, spider: Any, stats: dict[str, Any], reason: str, errors: int) -> list[str]:
    why = []
    if reason != "finished":
        why.append(f"spider closed with reason {reason!r}")
    if not spider.listing_complete:
        why.append(f"{len(spider.listing_errors)} listing page(s) failed ({spider.listing_errors[0]})")
    if errors:
        why.append(f"{errors} error(s)")
    elif int(stats.get("log_count/ERROR", 0)):
        why.append(f"{int(stats['log_count/ERROR'])} error(s) logged")
    if ctx.fatal:
        why.append(ctx.fatal)
    return why


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
    if ctx.mode == "full" and ctx.sweep_from < ctx.ordering_id:
        # A resumed full reindex: items acknowledged since the lineage began (by the killed run, or by runs in
        # between) carry ids at or above the threshold, so the sweep keeps them. Those this run did not see are
        # gone from the CMS: delete them explicitly.
        already = {d.document_id for d in plan.explicit}
        for doc_id in sorted(set(ctx.state.acked_since(ctx.scope, ctx.sweep_from)) - ctx.seen_ids - already):
            plan.explicit.append(Deletion(document_id=doc_id, reason="not seen by the resumed full reindex"))
    if ctx.mode == "full":
        already = {d.document_id for d in plan.explicit}
        # a dry run committed nothing, so "not acknowledged since" must also leave out what it saw
        seen = ctx.seen_ids if ctx.dry_run else set()
        old = ctx.state.items_not_acked_since(ctx.scope, ctx.sweep_from)
        plan.sweep = [d for d in old if d not in already and d not in seen]
        plan.sweep_by_ordering_id = source_is_exclusive(ctx, target)
    return plan


def guard(ctx: RunContext, plan: DeletionPlan, idents: identities.SweepPlan, allow_mass: bool) -> None:
    """Refuse a deletion set, or an identity sweep, larger than ``max_deletions`` — before either is applied."""
    if allow_mass:
        return
    how = (
        f"Nothing was deleted or disabled. If the removals are expected, rerun with --allow-mass-deletion, "
        f"or raise sites.{ctx.site_name}.max_deletions in settings.yaml."
    )
    known = ctx.state.item_count(ctx.scope)
    count = len(plan.ids)
    limit = deletion_limit(ctx, known)
    if count > limit:
        raise RunRefused(
            f"site {ctx.site_name}: this run would delete {count} of {known} known items, more than the limit "
            f"of {limit} (max_deletions). {how}"
        )
    limit = deletion_limit(ctx, idents.known)
    if idents.active and len(idents.stale) > limit:
        raise RunRefused(
            f"site {ctx.site_name}: this run would disable {len(idents.stale)} of {idents.known} known security "
            f"identities of provider {idents.provider}, more than the limit of {limit} (max_deletions). {how}"
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
        client.delete_older_than(source_id, ctx.sweep_from, 0 if target.is_local else None)
        ctx.state.forget_items(ctx.scope, plan.sweep)
        deleted += len(plan.sweep)
    return deleted


def _print_dry_run_deletions(ctx: RunContext, plan: DeletionPlan, idents: identities.SweepPlan) -> None:
    if ctx.dry_run_out is None:
        return
    reasons = {d.document_id: d.reason or "reported gone by the connector" for d in plan.explicit}
    for doc_id in plan.ids:
        why = reasons.get(doc_id, "not seen by this full run (sweep)")
        ctx.dry_run_out.write(json.dumps({"wouldDelete": doc_id, "reason": why}, ensure_ascii=False) + "\n")
    for identity in idents.stale if idents.active else []:
        line = {"wouldDisableIdentity": identity, "provider": idents.provider}
        ctx.dry_run_out.write(json.dumps(line, ensure_ascii=False) + "\n")


def finish(
    report: RunReport,
    ctx: RunContext,
    spider: Any,
    stats: dict[str, Any],
    reason: str,
    opened: OpenTarget | None,
    allow_mass: bool,
) -> None:
    """Fill the report, apply (or, in a dry run, show) deletions, commit the cursor and the full lineage."""
    counts, dropped = counts_from_stats(stats)
    report.counts, report.dropped_by_reason = counts, dropped
    report.batches = int(stats.get("pushcrawl/batches", 0))
    report.extra["would_push"] = int(stats.get("pushcrawl/would_push", 0))
    apply_field_stats(report, stats)  # collected-not-indexed, renamed and rejected field names
    indexfields.compare_with_target(report, stats, None if opened is None or ctx.dry_run else opened.client)
    apply_render_stats(report, stats)
    report.extra["sweep_from"] = ctx.sweep_from
    why = incomplete_reasons(ctx, spider, stats, reason, counts["errors"])
    complete = not why
    plan = plan_deletions(ctx, spider, complete, "; ".join(why), opened)
    report.deleted_ids = plan.ids
    if plan.skipped_reason:
        logger.warning(plan.skipped_reason)
    refused = ""
    idents = identities.plan_sweep(ctx, complete)
    if ctx.dry_run:
        _print_dry_run_deletions(ctx, plan, idents)
    try:
        guard(ctx, plan, idents, allow_mass)
    except RunRefused as exc:
        if not ctx.dry_run:
            raise
        refused = f"a real run would be refused: {exc}"
        report.extra["refused"] = True
    if plan.ids and opened is not None and not ctx.dry_run:
        counts["deleted"] = apply_deletions(ctx, plan, opened)
    identities.end_of_run(ctx, None if ctx.dry_run else opened, idents, report.extra)
    if complete and not refused:
        report.status = "finished"
        if not ctx.dry_run:
            if spider.new_cursor:
                ctx.state.commit_cursor(ctx.scope, spider.new_cursor, ctx.run_id)
            if ctx.mode == "full":
                ctx.state.end_full(ctx.scope)
    else:
        report.status = "aborted" if reason in ("shutdown", "cancelled") else "failed"
        report.message = "; ".join(why + ([refused] if refused else []))
        if plan.skipped_reason:
            report.message += f" — {plan.skipped_reason}"
