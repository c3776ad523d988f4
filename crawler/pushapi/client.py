"""PushApiClient: every Push API and Platform API call pushcrawl makes, with retries.

Conservative reading of the contract (CONTRACT.md): JSON content type and Bearer auth on every Push API call;
no Authorization header on the upload to ``uploadUri``, only the ``requiredHeaders``; ``orderingId`` sent on
every write so that out-of-order operations are resolved by the index, not by luck.

Retries: 429, 5xx and connection errors are retried on every call, POST included (our POSTs create file
containers and set status: repeating them is harmless), with exponential backoff and full jitter, honouring
``Retry-After`` when present. Other 4xx are final and raise PushError with the service's errorCode.

Calls are blocking; the push pipeline runs them on worker threads, never on Scrapy's reactor thread.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from crawler import __version__
from crawler.errors import PushError, QuotaExceeded, TargetError

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
QUOTA_CODES = frozenset({"TOO_MANY_DOCUMENTS_DAILY"})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max_s)
        # full jitter: spreads retries of concurrent uploads so they do not hit the server in lockstep
        return random.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class FileContainer:
    upload_uri: str
    file_id: str
    required_headers: dict[str, str] = field(default_factory=dict)


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _error_code(resp: requests.Response) -> tuple[str | None, str]:
    try:
        body = resp.json()
    except ValueError:
        return None, resp.text[:300]
    if isinstance(body, dict):
        return body.get("errorCode"), str(body.get("message", ""))[:300]
    return None, str(body)[:300]


class PushApiClient:
    """Blocking client for one organization. Thread-safe: one ``requests.Session`` per thread."""

    def __init__(
        self,
        push_base: str,
        platform_base: str,
        organization_id: str,
        api_key: str,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.push_root = f"{push_base.rstrip('/')}/organizations/{organization_id}"
        self.platform_root = f"{platform_base.rstrip('/')}/organizations/{organization_id}"
        self.search_root = platform_base.rstrip("/")
        self.organization_id = organization_id
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._local = threading.local()
        self.requests_made = 0
        self.retries_made = 0
        self._count_lock = threading.Lock()

    # ---- plumbing ----
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = f"pushcrawl/{__version__}"
            self._local.session = session
        return session

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        what: str = "",
    ) -> requests.Response:
        """One call with retries. Returns the 2xx response; raises PushError/QuotaExceeded/TargetError."""
        hdrs = dict(self._auth_headers() if auth else {})
        hdrs.update(headers or {})
        if json_body is not None or (auth and data is None):
            hdrs.setdefault("Content-Type", "application/json")
        attempt = 0
        while True:
            attempt += 1
            with self._count_lock:
                self.requests_made += 1
            try:
                resp = self._session().request(
                    method, url, json=json_body, data=data, headers=hdrs, timeout=self.timeout_s
                )
            except requests.RequestException as exc:
                if attempt >= self.retry.max_attempts:
                    raise PushError(f"{what or method} failed after {attempt} attempts: {exc}") from exc
                self._backoff(attempt, None, what, f"connection error ({type(exc).__name__})")
                continue
            if resp.status_code < 300:
                return resp
            code, message = _error_code(resp)
            if resp.status_code in RETRY_STATUSES and attempt < self.retry.max_attempts:
                self._backoff(attempt, _retry_after(resp), what, f"{resp.status_code} {code or ''}".strip())
                continue
            detail = f"{what or method + ' ' + url}: HTTP {resp.status_code} {code or ''} {message}".strip()
            if resp.status_code == 429 and (code in QUOTA_CODES or attempt >= self.retry.max_attempts):
                raise QuotaExceeded(detail, resp.status_code, code)
            if resp.status_code in (401, 403):
                raise TargetError(f"{detail} (check the API key and its privileges)")
            raise PushError(detail, resp.status_code, code)

    def _backoff(self, attempt: int, retry_after: float | None, what: str, why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        with self._count_lock:
            self.retries_made += 1
        logger.info("%s: %s, retry %d in %.1fs", what or "push api call", why, attempt, delay)
        self._sleep(delay)

    # ---- Push API: items ----
    def set_status(self, source_id: str, status: str) -> None:
        url = f"{self.push_root}/sources/{source_id}/status?statusType={status}"
        self.request("POST", url, what=f"set source status {status}")

    def create_file_container(self) -> FileContainer:
        resp = self.request("POST", f"{self.push_root}/files", what="create file container")
        body = resp.json()
        return FileContainer(body["uploadUri"], body["fileId"], dict(body.get("requiredHeaders") or {}))

    def upload(self, container: FileContainer, payload: bytes) -> None:
        headers = container.required_headers or {
            "Content-Type": "application/octet-stream",
            "x-amz-server-side-encryption": "AES256",
        }
        self.request("PUT", container.upload_uri, data=payload, headers=headers, auth=False, what="upload")

    def push_batch(self, source_id: str, file_id: str, ordering_id: int) -> None:
        url = f"{self.push_root}/sources/{source_id}/documents/batch?fileId={file_id}&orderingId={ordering_id}"
        self.request("PUT", url, what="apply batch")

    def upload_batch(self, source_id: str, payload: bytes, ordering_id: int) -> str:
        """Create a container, upload a BatchDocumentBody, apply it. Returns the fileId."""
        container = self.create_file_container()
        self.upload(container, payload)
        self.push_batch(source_id, container.file_id, ordering_id)
        return container.file_id

    def put_document(self, source_id: str, document_id: str, body: dict[str, Any], ordering_id: int) -> None:
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

    # ---- Platform API: sources ----
    def list_sources(self) -> list[dict[str, Any]]:
        resp = self.request("GET", f"{self.platform_root}/sources", what="list sources")
        body = resp.json()
        return list(body if isinstance(body, list) else body.get("sources", body.get("items", [])))

    def create_source(self, name: str, visibility: str = "SHARED") -> dict[str, Any]:
        body = {"sourceType": "PUSH", "pushEnabled": True, "name": name, "sourceVisibility": visibility}
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
            f"create it with 'pushcrawl sources create {name}'"
        )

    # ---- Search API ----
    def search_token(self, user: str, provider: str | None = None, kind: str = "User") -> str:
        ident: dict[str, str] = {"name": user, "type": kind}
        if provider:
            ident["provider"] = provider
        resp = self.request(
            "POST", f"{self.search_root}/search/v2/token", json_body={"userIds": [ident]}, what="search token"
        )
        return str(resp.json()["token"])

    def search(self, query: str, token: str | None = None, count: int = 10, aq: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"q": query, "numberOfResults": count}
        if aq:
            body["aq"] = aq
        headers = {"Authorization": f"Bearer {token}"} if token else None
        resp = self.request("POST", f"{self.search_root}/search/v2", json_body=body, headers=headers, what="search")
        return dict(resp.json())
