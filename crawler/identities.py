"""Security identities: Identity items → BatchIdentityBody entries, the target's provider, the end-of-run sweep.

A connector's identity stream (users, groups, virtual groups with their members, aliases and granted
identities) goes to the security identity provider of the site's source (CONTRACT.md §5). The push pipeline
sends pending identities *before* any document batch that follows them, the leading practice (CONTRACT.md
E7 note, D/90), so secured items never reference identities the index has not been told about.

A full run that was proven complete disables the identities it did not push (``DELETE …/permissions/
olderthan?orderingId=<the full run's sweep_from>``), under the same completeness rule as the item sweep
(DESIGN.md rule 1).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from crawler.config import CoveoTarget, Settings
from crawler.model import Identity, IdentityRef

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


def end_of_run(ctx: Any, target: Any, complete: bool, extra: dict[str, Any]) -> None:
    """Runner hook after deletions: sweep identities of a full run; report identities and Push API calls."""
    extra["identities_pushed"] = int(ctx.extra.get("identities_pushed", 0))
    if target is not None:  # requests made so far (the closing IDLE status comes after), retries among them
        extra["push_requests"], extra["push_retries"] = target.client.requests_made, target.client.retries_made
    note = sweep(ctx, target, complete)
    if note:
        logger.info(note)
        extra["identities_sweep"] = note


def sweep(ctx: Any, target: Any, complete: bool) -> str:
    """End of a full run: disable identities this run did not push. Returns what happened, for the log.

    Runs only when the run was proven complete *and* pushed identities: a connector that sends none (or a
    run whose identity stream failed) must never disable a provider's identities wholesale.
    """
    pushed = int(ctx.extra.get("identities_pushed", 0))
    if ctx.mode != "full" or ctx.dry_run or target is None or not pushed:
        return ""
    provider = ctx.extra.get("provider_id")
    if not complete:
        return f"run not proven complete: identities of provider {provider} not swept"
    # a resumed full run sweeps below the start of the full run it resumes (crawler.finish, ``sweep_from``)
    threshold = getattr(ctx, "sweep_from", 0) or ctx.ordering_id
    target.client.disable_identities_older_than(provider, threshold)
    return f"disabled identities of provider {provider} not pushed since ordering id {threshold}"
