"""PushApiClient: every Push API, Platform API and Search API call pushcrawl makes (retries: core.py).

Conservative reading of the contract (docs/push-api-contract.md): JSON content type and Bearer auth on every
Push API call; no Authorization header on the upload to ``uploadUri``, only the ``requiredHeaders``;
``orderingId`` sent on every write so that out-of-order operations are resolved by the index, not by luck.

Large payloads (batches, big items' content) go through file containers: create, upload, apply. A container
that expired or was consumed before its use (an upload retried past the presigned URL's hour) is replaced by a
fresh one and the payload uploaded again — except when the apply's *retry* finds its container consumed: the
first attempt was applied and only its answer was lost, so the batch counts as acknowledged (``already_consumed``).

Calls are blocking; the push pipeline runs them on worker threads, never on Scrapy's reactor thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from crawler.errors import PushError, TargetError
from crawler.pushapi.core import ApiCore, Body, RetryPolicy, error_code
from crawler.wire import JsonObject

__all__ = ["CONTAINER_ROUNDS", "FileContainer", "PushApiClient", "RetryPolicy"]

logger = logging.getLogger("crawler.pushapi")

#: how many containers one payload may use before giving up (each with its own retries)
CONTAINER_ROUNDS = 3
DEFAULT_UPLOAD_HEADERS = {"Content-Type": "application/octet-stream", "x-amz-server-side-encryption": "AES256"}


@dataclass(frozen=True)
class FileContainer:
    upload_uri: str
    file_id: str
    required_headers: dict[str, str] = field(default_factory=dict)


def already_consumed(resp: requests.Response) -> bool:
    """The apply of a container met "unknown or already consumed" on a *retry*: the first attempt's answer was
    lost (connection reset, timeout, a gateway's 5xx) after the server had applied it. Only our own apply call
    can consume our container (its fileId is known to nobody else), so the batch was acknowledged."""
    if resp.status_code not in (400, 404, 412):
        return False
    code, message = error_code(resp)
    return code != "INVALID_JSON" and "consumed" in message.lower()


def _container_refused(exc: PushError) -> bool:
    """An apply refused because its fileId is unknown, consumed or expired: retry with a fresh container."""
    return exc.status in (400, 404, 412) and "file" in str(exc).lower() and exc.error_code != "INVALID_JSON"


class PushApiClient(ApiCore):
    """Blocking client for one organization."""

    def __init__(
        self,
        push_base: str,
        platform_base: str,
        organization_id: str,
        api_key: str,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        gone: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(api_key, timeout_s, retry, sleep or time.sleep, gone)
        self.push_root = f"{push_base.rstrip('/')}/organizations/{organization_id}"
        self.platform_root = f"{platform_base.rstrip('/')}/organizations/{organization_id}"
        self.search_root = platform_base.rstrip("/")
        self.organization_id = organization_id

    # ---- file containers ----
    def create_file_container(self) -> FileContainer:
        resp = self.request("POST", f"{self.push_root}/files", what="create file container")
        body = resp.json()
        return FileContainer(body["uploadUri"], body["fileId"], dict(body.get("requiredHeaders") or {}))

    def upload_to_container(self, payload: Body, what: str = "upload") -> str:
        """Create a container and upload ``payload`` to it; a container that expired is replaced. → fileId"""
        for attempt in range(1, CONTAINER_ROUNDS + 1):
            container = self.create_file_container()
            resp = self.request(
                "PUT",
                container.upload_uri,
                data=payload,
                headers=container.required_headers or DEFAULT_UPLOAD_HEADERS,
                auth=False,
                what=what,
                # S3 answers 403 AccessDenied once the presigned URL expired, 404 when the container is gone
                final=lambda r: r.status_code in (403, 404),
            )
            if resp.status_code < 300:
                return container.file_id
            logger.info(
                "%s: container %s refused the upload (HTTP %s), using a fresh one (%d/%d)",
                what,
                container.file_id,
                resp.status_code,
                attempt,
                CONTAINER_ROUNDS,
            )
        raise PushError(f"{what}: {CONTAINER_ROUNDS} file containers refused the upload (expired or gone)")

    def _via_container(self, payload: Body, apply: Callable[[str], None], what: str) -> str:
        for attempt in range(1, CONTAINER_ROUNDS + 1):
            file_id = self.upload_to_container(payload, f"{what} upload")
            try:
                apply(file_id)
                return file_id
            except PushError as exc:
                if not _container_refused(exc) or attempt == CONTAINER_ROUNDS:
                    raise
                logger.info("%s: %s; uploading again to a fresh container", what, exc)
        raise AssertionError("unreachable")

    # ---- Push API: items ----
    def set_status(self, source_id: str, status: str) -> None:
        url = f"{self.push_root}/sources/{source_id}/status?statusType={status}"
        self.request("POST", url, what=f"set source status {status}")

    def push_batch(self, source_id: str, file_id: str, ordering_id: int) -> None:
        url = f"{self.push_root}/sources/{source_id}/documents/batch?fileId={file_id}&orderingId={ordering_id}"
        resp = self.request("PUT", url, what="apply batch", final_on_retry=already_consumed)
        if resp.status_code >= 300:
            logger.info("apply batch: %s was consumed by our earlier attempt whose answer was lost", file_id)

    def upload_batch(self, source_id: str, payload: Body, ordering_id: int) -> str:
        """Upload a BatchDocumentBody (bytes or a spooled file) and apply it. Returns the fileId used."""
        return self._via_container(
            payload, lambda file_id: self.push_batch(source_id, file_id, ordering_id), "item batch"
        )

    def put_document(self, source_id: str, document_id: str, body: JsonObject, ordering_id: int) -> None:
        url = (
            f"{self.push_root}/sources/{source_id}/documents?documentId={quote(document_id, safe='')}"
            f"&orderingId={ordering_id}"
        )
        self.request("PUT", url, json_body=body, what="add or update item")

    def delete_document(self, source_id: str, document_id: str, ordering_id: int, children: bool = False) -> None:
        url = (
            f"{self.push_root}/sources/{source_id}/documents?documentId={quote(document_id, safe='')}"
            f"&deleteChildren={'true' if children else 'false'}&orderingId={ordering_id}"
        )
        self.request("DELETE", url, what="delete item")

    def delete_older_than(self, source_id: str, ordering_id: int, queue_delay_min: int | None = None) -> None:
        url = f"{self.push_root}/sources/{source_id}/documents/olderthan?orderingId={ordering_id}"
        if queue_delay_min is not None:
            url += f"&queueDelay={queue_delay_min}"
        self.request("DELETE", url, what="delete older than")

    # ---- Push API: security identities ----
    def upload_identity_batch(self, provider_id: str, payload: Body, ordering_id: int) -> str:
        """Upload a BatchIdentityBody and apply it to the provider. Returns the fileId used."""

        def apply(file_id: str) -> None:
            url = (
                f"{self.push_root}/providers/{quote(provider_id, safe='')}/permissions/batch"
                f"?fileId={file_id}&orderingId={ordering_id}"
            )
            resp = self.request("PUT", url, what="apply identity batch", final_on_retry=already_consumed)
            if resp.status_code >= 300:
                logger.info("apply identity batch: %s was consumed by our earlier attempt", file_id)

        return self._via_container(payload, apply, "identity batch")

    def disable_identities_older_than(self, provider_id: str, ordering_id: int) -> None:
        url = f"{self.push_root}/providers/{quote(provider_id, safe='')}/permissions/olderthan?orderingId={ordering_id}"
        self.request("DELETE", url, what="disable identities older than")

    # ---- Platform API: sources and security identity providers ----
    def list_sources(self) -> list[JsonObject]:
        resp = self.request("GET", f"{self.platform_root}/sources", what="list sources")
        body = resp.json()
        return list(body if isinstance(body, list) else body.get("sources", body.get("items", [])))

    def create_source(self, name: str, visibility: str = "SHARED") -> JsonObject:
        body: JsonObject = {"sourceType": "PUSH", "pushEnabled": True, "name": name, "sourceVisibility": visibility}
        resp = self.request("POST", f"{self.platform_root}/sources", json_body=body, what="create source")
        return dict(resp.json())

    def resolve_source(self, name: str) -> str:
        sources = self.list_sources()
        for src in sources:
            if src.get("name") == name:
                return str(src["id"])
        names = ", ".join(sorted(str(s.get("name")) for s in sources)) or "none"
        raise TargetError(
            f"source {name!r} not found in organization {self.organization_id} (available: {names}); "
            f"create it with 'pushcrawl sources create {name}', or set the target's source_id"
        )

    def put_security_provider(self, provider_id: str, source_ids: list[str]) -> JsonObject:
        """Create (or update) a Push identity provider attached to ``source_ids``, cascading to e-mail."""
        body: JsonObject = {
            "id": provider_id,
            "name": provider_id,
            "type": "EXPANDED",
            "nodeRequired": False,
            "cascadingSecurityProviders": {
                "Email Security Provider": {"id": "Email Security Provider", "type": "EMAIL"}
            },
            "sources": [{"id": s} for s in source_ids],
        }
        url = f"{self.platform_root}/securityproviders/{quote(provider_id, safe='')}"
        resp = self.request("PUT", url, json_body=body, what="create security identity provider")
        return dict(resp.json()) if resp.content else body

    # ---- Search API ----
    def search_token(
        self, user: str, provider: str | None = None, kind: str = "User", also_in: tuple[str, ...] = ()
    ) -> str:
        """A search token for ``user`` (in ``provider``, default the e-mail provider), and the same name in
        each of ``also_in`` (the identity providers of the target's sources)."""
        ident: dict[str, str] = {"name": user, "type": kind}
        if provider:
            ident["provider"] = provider
        user_ids = [ident] + [{"name": user, "type": kind, "provider": p} for p in also_in if p != provider]
        resp = self.request(
            "POST", f"{self.search_root}/search/v2/token", json_body={"userIds": user_ids}, what="search token"
        )
        return str(resp.json()["token"])

    def search(self, query: str, token: str | None = None, count: int = 10, aq: str | None = None) -> JsonObject:
        body: JsonObject = {"q": query, "numberOfResults": count}
        if aq:
            body["aq"] = aq
        headers = {"Authorization": f"Bearer {token}"} if token else None
        resp = self.request("POST", f"{self.search_root}/search/v2", json_body=body, headers=headers, what="search")
        return dict(resp.json())
