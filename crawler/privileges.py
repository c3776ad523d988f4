"""What an API key may do, asked of the target itself (Coveo's privilege evaluator), for ``pushcrawl check``.

A key can be valid and still unable to push to *this* source (it was made for another one) or to push
identities; the crawl would then fail with 403 after crawling. ``POST <platform>/rest/privilege/evaluate``
with ``{"organizationId", "requestedPrivilege": {"owner", "targetDomain", "type", "targetId"}}`` answers
``{"approved": bool}`` per privilege (as coveo/platform-client's PrivilegeEvaluator and the Coveo CLI use it;
the local Push API answers the same route from its key scopes). The privilege sets are the two the Push
source page lists; the hints name them as the Coveo Administration Console does.
The privilege *models* (domain and type for "Push items to sources" and "Push identities") are inferred
from keys created by the Push source page, not from a published table.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.errors import PushcrawlError
from crawler.jsontypes import JSONObject
from crawler.pushapi.client import PushApiClient


@dataclass(frozen=True)
class Needed:
    domain: str
    kind: str
    target: str  # a source id, or "*"
    hint: str  # as the Administration Console names it


def push_items(source_id: str, source_name: str) -> list[Needed]:
    return [
        Needed("SOURCE", "EDIT", source_id, f"Content > Push items to sources > Custom (Allow on {source_name})"),
        Needed("SOURCE", "VIEW", "*", "Content > Sources > View all"),
        Needed("ORGANIZATION", "VIEW", "*", "Organization > Organization > View"),
    ]


def push_identities() -> list[Needed]:
    return [
        Needed(
            "SECURITY_PROVIDER",
            "EDIT",
            "*",
            "Content > Push identities to security providers > Allow for all providers",
        ),
        Needed("SECURITY_PROVIDER", "VIEW", "*", "Content > Security identity providers > View"),
        Needed("ORGANIZATION", "VIEW", "*", "Organization > Organization > View"),
    ]


class EvaluatorUnavailable(PushcrawlError):
    """The target has no privilege evaluator (a proxy, an older emulator): privileges cannot be verified."""


def evaluate_url(client: PushApiClient) -> str:
    return client.platform_root.rsplit("/organizations/", 1)[0] + "/privilege/evaluate"


def missing(client: PushApiClient, organization_id: str, needed: list[Needed]) -> list[str]:
    """The hints of the privileges the key lacks (empty: it has them all)."""
    out: list[str] = []
    for need in needed:
        body: JSONObject = {
            "organizationId": organization_id,
            "requestedPrivilege": {
                "owner": "PLATFORM",
                "targetDomain": need.domain,
                "type": need.kind,
                "targetId": need.target,
            },
        }
        try:
            resp = client.request("POST", evaluate_url(client), json_body=body, what="evaluate privilege")
        except PushcrawlError as exc:
            raise EvaluatorUnavailable(str(exc)) from exc
        answer = resp.json()
        if not (isinstance(answer, dict) and answer.get("approved") is True) and need.hint not in out:
            out.append(need.hint)
    return out
