"""ApiCore: one HTTP call with retries, shared by every Push API, Platform API and upload call.

Retried, on every call (POST included: ours create file containers and set a status, both harmless to
repeat): 429 (``TOO_MANY_REQUESTS`` and ``TOO_MANY_DOCUMENTS_DAILY`` alike — a short burst of either is
throttling), 500/502/503/504, and connection errors (refused, reset, timeout). Delays grow exponentially with
full jitter, so concurrent uploads do not retry in lockstep; ``Retry-After`` wins when the server sends it.
When the attempts run out, a 429 raises QuotaExceeded (the run stops cleanly, unsent items stay for the next
run), anything else PushError. 401/403 from the API raise TargetError (the key, not the data, is wrong).

A body may be bytes or a seekable binary file: a file is rewound and streamed again on each attempt, so a
batch spooled to disk is never loaded into memory.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import IO

import requests

from crawler import __version__
from crawler.errors import PushError, QuotaExceeded, TargetError, TargetGone
from crawler.jsontypes import JSONValue

logger = logging.getLogger("crawler.pushapi")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
Body = bytes | IO[bytes]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max_s)
        return random.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1)))


def retry_after(resp: requests.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def error_code(resp: requests.Response) -> tuple[str | None, str]:
    """(errorCode, message) from a Push API JSON error body; S3-style XML or text is kept as the message."""
    try:
        body = resp.json()
    except ValueError:
        return None, " ".join(resp.text.split())[:300]
    if isinstance(body, dict):
        return body.get("errorCode"), str(body.get("message", ""))[:300]
    return None, str(body)[:300]


class ApiCore:
    """Blocking HTTP with retries. Thread-safe: one ``requests.Session`` per thread, counters under a lock."""

    def __init__(
        self,
        api_key: str,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        gone: Callable[[], str | None] | None = None,
    ) -> None:
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        #: why the target's server is known to be gone (its process exited), else None: a connection error is
        #: then final. Retrying a server that cannot come back took minutes of backoff per call (8 attempts),
        #: each batch and each end-of-run call in turn, before a run said anything useful.
        self._gone = gone
        self._local = threading.local()
        self._count_lock = threading.Lock()
        self.requests_made = 0
        self.retries_made = 0

    def gone(self) -> str | None:
        """Why the target's server is known to be gone, else None (always None without a ``gone`` callable)."""
        return self._gone() if self._gone is not None else None

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = f"pushcrawl/{__version__}"
            self._local.session = session
        return session

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: JSONValue = None,
        data: Body | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        what: str = "",
        final: Callable[[requests.Response], bool] | None = None,
        final_on_retry: Callable[[requests.Response], bool] | None = None,
    ) -> requests.Response:
        """One call with retries. Returns the 2xx response (or one ``final`` accepts, or from the second
        attempt on one ``final_on_retry`` accepts: an answer that means "your earlier attempt worked");
        raises otherwise."""
        hdrs = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"} if auth else {}
        hdrs.update(headers or {})
        if json_body is not None or (auth and data is None):
            hdrs.setdefault("Content-Type", "application/json")
        what = what or method
        attempt = 0
        while True:
            attempt += 1
            with self._count_lock:
                self.requests_made += 1
            if data is not None and not isinstance(data, bytes):
                data.seek(0)
            try:
                resp = self._session().request(
                    method, url, json=json_body, data=data, headers=hdrs, timeout=self.timeout_s
                )
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                why = self.gone()
                if why is not None:
                    raise TargetGone(f"{what} failed: {why}") from exc
                if attempt >= self.retry.max_attempts:
                    raise PushError(f"{what} failed after {attempt} attempts: {type(exc).__name__}: {exc}") from exc
                self._backoff(attempt, None, what, f"connection error ({type(exc).__name__})")
                continue
            except requests.RequestException as exc:  # a bad URL or the like: retrying cannot help
                raise PushError(f"{what} failed: {type(exc).__name__}: {exc}") from exc
            if resp.status_code < 300 or (final is not None and final(resp)):
                return resp
            if attempt > 1 and final_on_retry is not None and final_on_retry(resp):
                return resp
            code, message = error_code(resp)
            if resp.status_code in RETRY_STATUSES and attempt < self.retry.max_attempts:
                self._backoff(attempt, retry_after(resp), what, f"HTTP {resp.status_code} {code or ''}".strip())
                continue
            detail = f"{what}: HTTP {resp.status_code} {code or ''} {message}".strip()
            if resp.status_code == 429:
                raise QuotaExceeded(
                    f"{detail} — still throttled after {attempt} attempts; stopping the run, unsent items "
                    "will be pushed by the next run",
                    resp.status_code,
                    code,
                )
            if auth and resp.status_code in (401, 403):
                raise TargetError(f"{detail} (check the API key and its privileges)")
            if resp.status_code in RETRY_STATUSES:
                detail += f" (after {attempt} attempts)"
            raise PushError(detail, resp.status_code, code)

    def _backoff(self, attempt: int, after: float | None, what: str, why: str) -> None:
        delay = self.retry.delay(attempt, after)
        with self._count_lock:
            self.retries_made += 1
        logger.info("%s: %s, retry %d in %.2fs", what, why, attempt, delay)
        self._sleep(delay)
