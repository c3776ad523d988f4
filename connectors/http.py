"""HTTP pieces shared by the API connectors: auth options, a blocking JSON getter for ``ping``, Retry-After.

- ``HttpOptions``: ``username``/``password`` (HTTP basic) or ``token`` (bearer) for a CMS behind auth. Their
  names match the settings loader's secret pattern, so values from ``${ENV}`` are redacted in logs.
- ``get_json``: what ``ping`` uses (requests, outside the reactor); turns statuses into ``ConnectorError``
  messages that say what was wrong and what to check.
- ``RetryAfterMiddleware``: Scrapy's RetryMiddleware retries 429/503 at once; this downloader middleware
  (enable it *above* RetryMiddleware's 550 so it sees the response first) waits the ``Retry-After`` the server
  asked for, capped by the ``RETRY_AFTER_MAX_S`` setting, then lets RetryMiddleware retry as usual.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import time
from typing import Any

import requests
from pydantic import SecretStr
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from connectors.base import ConnectorOptions
from crawler.errors import ConnectorError

logger = logging.getLogger(__name__)

#: downloader middleware entry for a connector's ``custom_settings``
RETRY_AFTER_MIDDLEWARE = {"connectors.http.RetryAfterMiddleware": 560}
RETRY_AFTER_MAX_S = 120.0
#: ping waits for a Retry-After at most this long (twice), then reports the status
PING_RETRY_AFTER_MAX_S = 30.0


class HttpOptions(ConnectorOptions):
    """Credentials for a CMS behind HTTP auth: basic (``username`` + ``password``) or a bearer ``token``."""

    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None

    def auth_headers(self) -> dict[str, str]:
        if self.token is not None:
            return {"Authorization": f"Bearer {self.token.get_secret_value()}"}
        if self.username is not None:
            pwd = self.password.get_secret_value() if self.password is not None else ""
            raw = base64.b64encode(f"{self.username}:{pwd}".encode()).decode("ascii")
            return {"Authorization": f"Basic {raw}"}
        return {}


def get_json(
    url: str,
    *,
    what: str,
    hint: str,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> Any:
    """GET ``url`` and return its JSON; raise ConnectorError naming ``what`` and the ``hint`` to check."""
    for attempt in range(3):
        try:
            resp = requests.get(url, params=params, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot reach {what} at {url} ({exc}); check the URL and that it is up") from None
        wait = retry_after_seconds(resp.headers.get("Retry-After")) if resp.status_code in (429, 503) else None
        if wait is None or wait > PING_RETRY_AFTER_MAX_S or attempt == 2:
            break
        time.sleep(wait)  # a busy server asked us to come back: ping waits like the crawl does
    if resp.status_code in (401, 403):
        raise ConnectorError(
            f"{what} at {url} refused access (HTTP {resp.status_code}); check the username/password or token"
        )
    if resp.status_code == 404:
        raise ConnectorError(f"{what} not found at {url} (HTTP 404); {hint}")
    if resp.status_code >= 400:
        raise ConnectorError(f"{what} at {url} answered HTTP {resp.status_code}; {hint}")
    try:
        return resp.json()
    except ValueError:
        ctype = resp.headers.get("Content-Type", "?")
        raise ConnectorError(f"{url} did not answer JSON (Content-Type {ctype}); {hint}") from None


def retry_after_seconds(value: str | bytes | None, now: float | None = None) -> float | None:
    """Parse a Retry-After value (delta seconds or an HTTP date) into seconds from now; None if unusable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    """Wait what a 429/503 ``Retry-After`` asks before RetryMiddleware retries; the wait does not block."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX_S", RETRY_AFTER_MAX_S)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in (429, 503) or request.meta.get("dont_retry"):
            return response
        delay = retry_after_seconds(response.headers.get(b"Retry-After"))
        if delay is None or delay <= 0:
            return response
        if delay > self.max_wait:
            logger.warning("Retry-After %.0fs from %s capped at %.0fs", delay, request.url, self.max_wait)
            delay = self.max_wait
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("pushcrawl/retry_after/waits")
        from twisted.internet import reactor  # here, not at import: importing it installs a reactor

        await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return response
