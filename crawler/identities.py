"""Security identities: Identity items → BatchIdentityBody entries, the target's provider, the end-of-run sweep.

A connector's identity stream (users, groups, virtual groups with their members, aliases and granted
identities) goes to the security identity provider of the site's source (CONTRACT.md §5). The push pipeline
sends pending identities *before* any document batch that follows them, the leading practice (CONTRACT.md
E7 note, D/90), so secured items never reference identities the index has not been told about.

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

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from crawler.config import CoveoTarget, Settings
from crawler.model import Identity, IdentityRef
from crawler.pushapi.batch import IDENTITY_SECTIONS, SpooledBatch

logger = logging.getLogger(__name__)


def provider_id(settings: Settings, target: Any, source_name: str) -> str:
    """The target's ``security_provider``, else ``<source name>-identities`` (what ``sources create`` makes)."""
    if isinstance(target, CoveoTarget) and target.security_provider:
        return target.security_provider
    return f"{source_name}-identities"


def _ref(ref: IdentityRef, *, with_provider: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"name": ref.name, "type": ref.type, "additionalInfo": dict(ref.additional_info)}
    if with_provider and ref.provider:
        out["provider"] = ref.provider
    return out


def _identity(item: Identity) -> dict[str, Any]:
    return {"name": item.name, "type": item.type, "additionalInfo": dict(item.additional_info)}


def entries(item: Identity) -> list[tuple[str, bytes]]:
    """(section, JSON entry) pairs of one identity for a BatchIdentityBody file."""
    ident = _identity(item)
    if item.disabled:
        return [("deleted", _dump({"identity": ident}))]
    out = [
        (
            "members",
            _dump(
                {
                    "identity": ident,
                    "members": [_ref(m) for m in item.members],
                    "wellKnowns": [_ref(g) for g in item.granted],
                }
            ),
        )
    ]
    if item.mappings:
        out.append(("mappings", _dump({"identity": ident, "mappings": [_ref(m) for m in item.mappings]})))
    return out


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def key(item: Identity) -> str:
    """The state store's key of an identity within its provider."""
    return f"{item.type}:{item.name}"


def fingerprint(item: Identity, parts: list[tuple[str, bytes]]) -> str:
    """What changes when anything pushed for the identity changes; "" for a disabled identity (forgotten on
    acknowledgement)."""
    if item.disabled:
        return ""
    digest = hashlib.sha256()
    for section, entry in parts:
        digest.update(section.encode() + b"\0" + entry + b"\0")
    return digest.hexdigest()


def _disable_entry(identity_key: str) -> bytes:
    kind, _, name = identity_key.partition(":")
    return _dump({"identity": {"name": name, "type": kind, "additionalInfo": {}}})


def site_provider(settings: Settings, site: str) -> tuple[str, str]:
    """(target name, provider id) a site's identities go to."""
    from crawler.targets import source_name_for  # import here: crawler.targets imports this module

    target_name, target = settings.target_for(site)
    return target_name, provider_id(settings, target, source_name_for(settings, site, target))


def provider_is_exclusive(ctx: Any) -> bool:
    """True when no other site of the settings pushes identities to the same target and provider."""
    mine = (ctx.target_name, ctx.extra.get("provider_id"))
    return all(site_provider(ctx.settings, name) != mine for name in ctx.settings.sites if name != ctx.site_name)


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


def plan_sweep(ctx: Any, complete: bool) -> SweepPlan:
    """The identity sweep of a full run, or an inactive plan saying why there is none.

    Runs only when the run was proven complete *and* saw identities: a connector that sends none (or a run
    whose identity stream failed) must never disable a provider's identities wholesale.
    """
    provider = str(ctx.extra.get("provider_id", ""))
    plan = SweepPlan(provider=provider)
    seen: set[str] = ctx.extra.get("identities_seen", set())
    if ctx.mode != "full" or not seen:
        return plan
    if not complete:
        plan.note = f"run not proven complete: identities of provider {provider} not disabled"
        return plan
    # a resumed full run sweeps below the start of the full run it resumes (crawler.finish, ``sweep_from``)
    plan.threshold = getattr(ctx, "sweep_from", 0) or ctx.ordering_id
    plan.known = len(ctx.state.identity_states(ctx.scope, provider))
    old = ctx.state.identities_not_acked_since(ctx.scope, provider, plan.threshold)
    plan.stale = [k for k in old if k not in seen]  # a dry run acknowledged nothing: leave out what it saw
    plan.exclusive = provider_is_exclusive(ctx)
    plan.active = True
    return plan


def apply_sweep(ctx: Any, target: Any, plan: SweepPlan) -> str:
    """Disable what the plan says; returns what happened, for the log."""
    if not plan.active:
        return plan.note
    client = target.client
    if plan.exclusive:
        client.disable_identities_older_than(plan.provider, plan.threshold)
        how = f"not pushed since ordering id {plan.threshold}"
    else:
        for start in range(0, len(plan.stale), ctx.settings.push.batch_max_items):
            chunk = plan.stale[start : start + ctx.settings.push.batch_max_items]
            batch = SpooledBatch(IDENTITY_SECTIONS)
            try:
                for identity_key in chunk:
                    batch.add(_disable_entry(identity_key), section="deleted")
                client.upload_identity_batch(plan.provider, batch.seal(), ctx.ordering_id)
            finally:
                batch.close()
        how = "that this site pushed before and no longer sees (provider shared with other sites)"
    ctx.state.forget_identities(ctx.scope, plan.provider, plan.stale)
    return f"disabled identities of provider {plan.provider} {how}: {len(plan.stale)} known to this site"


def end_of_run(ctx: Any, target: Any, plan: SweepPlan, extra: dict[str, Any]) -> None:
    """Runner hook after deletions: apply the identity sweep; report identities and Push API calls."""
    extra["identities_pushed"] = int(ctx.extra.get("identities_pushed", 0))
    extra["identities_unchanged"] = int(ctx.extra.get("identities_unchanged", 0))
    if target is not None:  # requests made so far (the closing IDLE status comes after), retries among them
        extra["push_requests"], extra["push_retries"] = target.client.requests_made, target.client.retries_made
    if plan.active and (ctx.dry_run or target is None):
        extra["identities_would_disable"] = plan.stale
        return
    note = apply_sweep(ctx, target, plan) if target is not None else plan.note
    if note:
        logger.info(note)
        extra["identities_sweep"] = note
