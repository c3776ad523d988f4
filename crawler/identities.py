"""Security identities at the end of a run: the full run's identity sweep, planned then applied.

A connector's identity stream (users, groups, virtual groups with their members, aliases and granted
identities) goes to the security identity provider of the site's source (docs/push-api-contract.md,
"Security identities"); its batch entries are built by crawler.wire.identity, and the push sink sends every
identity batch, and waits for its acceptance, before any document batch that follows it.

Each identity's fingerprint (its exact batch entries) is kept in the state store once its batch was
acknowledged, so an incremental run sends only identities that changed; a full run sends them all, since its
sweep disables whatever it did not send.

A full run that was proven complete disables the identities it did not see, under the same completeness rule
as the item sweep (DESIGN.md rule 1) and the same mass-deletion guard (``max_deletions`` of the identities
the state store knows for the provider). A provider only this site pushes to is swept in one call (``DELETE
…/permissions/olderthan?orderingId=<sweep_from>``); a provider shared with other sites gets explicit
``deleted`` entries for the identities this site pushed before and no longer sees, so it never disables
identities another site owns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from crawler.context import Run
from crawler.naming import provider_id, site_provider
from crawler.pushapi.client import PushApiClient
from crawler.wire.batch import IDENTITY_SECTIONS, SpooledBatch
from crawler.wire.identity import disable_entry, entries, fingerprint, key

__all__ = ["SweepPlan", "apply_sweep", "entries", "fingerprint", "key", "plan_sweep", "provider_id"]

logger = logging.getLogger(__name__)


def provider_is_exclusive(run: Run) -> bool:
    """True when no other site of the settings pushes identities to the same target and provider."""
    mine = (run.target_name, run.provider_id)
    return all(site_provider(run.settings, name) != mine for name in run.settings.sites if name != run.site_name)


@dataclass
class SweepPlan:
    """What a full run's identity sweep would do, computed before anything is deleted."""

    provider: str = ""
    threshold: int = 0
    stale: list[str] = field(default_factory=list)  # known identity keys this run did not see
    known: int = 0
    exclusive: bool = True
    note: str = ""  # why there is no sweep, when there is none
    active: bool = False


def plan_sweep(run: Run, complete: bool) -> SweepPlan:
    """The identity sweep of a full run, or an inactive plan saying why there is none.

    Runs only when the run was proven complete *and* saw identities: a connector that sends none (or a run
    whose identity stream failed) must never disable a provider's identities wholesale.
    """
    plan = SweepPlan(provider=run.provider_id)
    if run.mode != "full":
        return plan
    seen = run.ledger.identities_seen()
    if not seen:
        return plan
    if not complete:
        plan.note = f"run not proven complete: identities of provider {run.provider_id} not disabled"
        return plan
    # a resumed full run sweeps below the start of the full run it resumes (crawler.finish, ``sweep_from``)
    plan.threshold = run.sweep_from or run.ordering_id
    plan.known = len(run.state.identity_states(run.scope, run.provider_id))
    old = run.state.identities_not_acked_since(run.scope, run.provider_id, plan.threshold)
    plan.stale = [k for k in old if k not in seen]  # a dry run acknowledged nothing: leave out what it saw
    plan.exclusive = provider_is_exclusive(run)
    plan.active = True
    return plan


def apply_sweep(run: Run, client: PushApiClient, plan: SweepPlan) -> str:
    """Disable what the plan says; returns what happened, for the log."""
    if not plan.active:
        return plan.note
    if plan.exclusive:
        client.disable_identities_older_than(plan.provider, plan.threshold)
        how = f"not pushed since ordering id {plan.threshold}"
    else:
        for start in range(0, len(plan.stale), run.settings.push.batch_max_items):
            chunk = plan.stale[start : start + run.settings.push.batch_max_items]
            batch = SpooledBatch(IDENTITY_SECTIONS)
            try:
                for identity_key in chunk:
                    batch.add(disable_entry(identity_key), section="deleted")
                client.upload_identity_batch(plan.provider, batch.seal(), run.ordering_id)
            finally:
                batch.close()
        how = "that this site pushed before and no longer sees (provider shared with other sites)"
    run.state.forget_identities(run.scope, plan.provider, plan.stale)
    return f"disabled identities of provider {plan.provider} {how}: {len(plan.stale)} known to this site"
