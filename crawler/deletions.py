"""Deletions at the end of a run: plan them, guard the plan, apply it — three steps, each its own function.

Deletions the connector positively reported, and ids missing from a *complete* id listing, are applied in
any mode; a full run proven complete also sweeps what it did not push (DESIGN.md rule 1). Every deletion
set, and every identity sweep, passes the mass-deletion guard: more than ``max_deletions`` (default 10 % of
the site's known items) is refused unless allowed.

The sweep threshold is the full run's ``sweep_from``: its own start, or the start of the unfinished full
reindex it resumes (see crawler.state), so items a killed run already pushed are not swept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TextIO

from crawler import defaults
from crawler.context import Run
from crawler.errors import RunRefused
from crawler.identities import SweepPlan
from crawler.model import Deletion
from crawler.naming import source_name_for
from crawler.pushapi.client import PushApiClient
from crawler.wire.body import delete_entry


@dataclass
class DeletionPlan:
    explicit: list[Deletion] = field(default_factory=list)  # reported gone, or missing from a complete listing
    sweep: list[str] = field(default_factory=list)  # known ids a full run did not push again
    sweep_by_ordering_id: bool = False  # one olderthan call (exclusive source) instead of explicit deletes
    skipped_reason: str = ""

    @property
    def ids(self) -> list[str]:
        return [d.document_id for d in self.explicit] + self.sweep


@dataclass(frozen=True)
class Listing:
    """What a ``lists_all_ids`` connector listed (None for other connectors)."""

    ids: frozenset[str]


def deletion_limit(run: Run, known: int) -> int:
    value = run.site.max_deletions
    if value is None:
        value = defaults.MAX_DELETIONS_RATIO
    if value < 1:
        return max(1, math.floor(value * known))
    return int(value)


def source_is_exclusive(run: Run, source_name: str | None) -> bool:
    """True when no other site of the settings pushes to the same target and source (None: no target)."""
    if source_name is None:
        return True
    for name in run.settings.sites:
        if name == run.site_name:
            continue
        other_target, other = run.settings.target_for(name)
        if other_target == run.target_name and source_name_for(run.settings, name, other) == source_name:
            return False
    return True


def plan_deletions(
    run: Run, listing: Listing | None, complete: bool, incomplete_why: str, source_name: str | None
) -> DeletionPlan:
    """Step "plan": what this run may delete, from the ledger and the state store; nothing is sent."""
    plan = DeletionPlan(explicit=list(run.ledger.deletions()))
    if not complete:
        if run.mode == "full" or listing is not None:
            plan.skipped_reason = f"run not proven complete ({incomplete_why}): nothing swept"
        return plan
    if listing is not None:
        reported = {d.document_id for d in plan.explicit}
        for doc_id in sorted(set(run.state.fingerprints(run.scope)) - listing.ids - reported):
            plan.explicit.append(Deletion(document_id=doc_id, reason="missing from complete listing"))
    if run.mode != "full":
        return plan
    already = {d.document_id for d in plan.explicit}
    if run.sweep_from < run.ordering_id:
        # A resumed full reindex: items acknowledged since the lineage began (by the killed run, or by runs in
        # between) carry ids at or above the threshold, so the sweep keeps them. Those this run did not see are
        # gone from the CMS: delete them explicitly.
        for doc_id in sorted(run.state.acked_since(run.scope, run.sweep_from)):
            if doc_id not in already and not run.ledger.was_seen(doc_id):
                plan.explicit.append(Deletion(document_id=doc_id, reason="not seen by the resumed full reindex"))
                already.add(doc_id)
    old = run.state.items_not_acked_since(run.scope, run.sweep_from)
    # a dry run committed nothing, so "not acknowledged since" must also leave out what it saw
    plan.sweep = [d for d in old if d not in already and not (run.dry_run and run.ledger.was_seen(d))]
    plan.sweep_by_ordering_id = source_is_exclusive(run, source_name)
    return plan


def guard(run: Run, plan: DeletionPlan, idents: SweepPlan, allow_mass: bool) -> None:
    """Step "guard": refuse a deletion set, or an identity sweep, larger than ``max_deletions``."""
    if allow_mass:
        return
    how = (
        f"Nothing was deleted or disabled. If the removals are expected, rerun with --allow-mass-deletion, "
        f"or raise sites.{run.site_name}.max_deletions in settings.yaml."
    )
    known = run.state.item_count(run.scope)
    count = len(plan.ids)
    limit = deletion_limit(run, known)
    if count > limit:
        raise RunRefused(
            f"site {run.site_name}: this run would delete {count} of {known} known items, more than the limit "
            f"of {limit} (max_deletions). {how}"
        )
    limit = deletion_limit(run, idents.known)
    if idents.active and len(idents.stale) > limit:
        raise RunRefused(
            f"site {run.site_name}: this run would disable {len(idents.stale)} of {idents.known} known security "
            f"identities of provider {idents.provider}, more than the limit of {limit} (max_deletions). {how}"
        )


def apply_deletions(run: Run, plan: DeletionPlan, client: PushApiClient, source_id: str, is_local: bool) -> int:
    """Step "apply": send the planned deletions; forget the ids in the state store once acknowledged."""
    deleted = 0
    explicit = plan.explicit + ([] if plan.sweep_by_ordering_id else [Deletion(document_id=d) for d in plan.sweep])
    size = run.settings.push.batch_max_items
    for start in range(0, len(explicit), size):
        chunk = explicit[start : start + size]
        payload = json.dumps({"addOrUpdate": [], "delete": [delete_entry(d) for d in chunk]}).encode("utf-8")
        client.upload_batch(source_id, payload, run.ordering_id)
        run.state.forget_items(run.scope, [d.document_id for d in chunk])
        for d in chunk:
            if d.delete_children:
                run.state.forget_children(run.scope, d.document_id)
        deleted += len(chunk)
    if plan.sweep_by_ordering_id and plan.sweep:
        # The local twin applies operations in arrival order, so no queue delay is needed there; Coveo's
        # default (15 min) lets in-flight updates land before the sweep.
        client.delete_older_than(source_id, run.sweep_from, 0 if is_local else None)
        run.state.forget_items(run.scope, plan.sweep)
        deleted += len(plan.sweep)
    return deleted


def print_dry_run(out: TextIO, plan: DeletionPlan, idents: SweepPlan) -> None:
    """A dry run's plan, one JSON line per deletion or disabled identity."""
    reasons = {d.document_id: d.reason or "reported gone by the connector" for d in plan.explicit}
    for doc_id in plan.ids:
        why = reasons.get(doc_id, "not seen by this full run (sweep)")
        out.write(json.dumps({"wouldDelete": doc_id, "reason": why}, ensure_ascii=False) + "\n")
    for identity in idents.stale if idents.active else []:
        line = {"wouldDisableIdentity": identity, "provider": idents.provider}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
