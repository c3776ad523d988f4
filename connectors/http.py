"""HTTP helpers shared by the API connectors: basic-auth options, polite Scrapy settings, ``Retry-After``.

Scrapy's RetryMiddleware retries 429 and 503 responses but ignores their ``Retry-After`` header, so a
server asking for a minute's pause would be hit again at once. ``RetryAfterMiddleware`` sits just outside
it (order 560, so it sees responses first), waits the time the server asked for (capped by
``RETRY_AFTER_MAX``) without blocking the reactor, and hands the response on for RetryMiddleware to
retry and count as usual.

``get_json`` is what ``ping`` uses (requests, outside the reactor): it waits out a short Retry-After and turns
statuses into ``ConnectorError`` messages that say what was wrong and what to check.

Reading an API: ask for JSON (``JSON_HEADERS``) and check the answer's Content-Type before parsing it
(``json_body`` in the crawl, ``get_json`` in ping). Servers do not all answer JSON by default: Django REST
framework (Wagtail's API) serves its browsable HTML page to Scrapy's default ``Accept: text/html,…``, and a
login wall or a proxy's error page is HTML too. Parsing that as JSON gave "Expecting value: line 5 column 1";
``NotJSON`` names the URL and the Content-Type received instead.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep

from crawler import secrets
from crawler.errors import ConnectorError
from crawler.jsontypes import JSONData
from crawler.scrapytypes import SettingsDict

logger = logging.getLogger(__name__)

#: longest pause honoured for one Retry-After (seconds); a longer one is capped, not obeyed blindly
RETRY_AFTER_MAX = 120.0
RETRY_AFTER_CODES = (429, 503)
#: ping waits for a Retry-After at most this long (twice), then reports the status
PING_RETRY_AFTER_MAX = 30.0
#: what every API request asks for: without it DRF (Wagtail) answers Scrapy's default Accept with HTML
JSON_HEADERS = {"Accept": "application/json"}


class NotJSON(ValueError):
    """An API answered something that is not JSON; the message names the URL and the Content-Type received."""


def is_json_type(content_type: str | None, accept: str = "application/json") -> bool:
    """Is ``content_type`` JSON: ``application/json``, the ``accept`` type asked for, or any ``+json`` type?"""
    mime = (content_type or "").split(";")[0].strip().lower()
    return mime in ("application/json", accept.lower()) or (mime.startswith("application/") and mime.endswith("+json"))


def json_body(response: Response, accept: str = "application/json") -> JSONData:
    """The JSON of an API response, checked by its Content-Type first; ``NotJSON`` when it is anything else."""
    raw = response.headers.get(b"Content-Type")
    ctype = raw.decode("latin-1") if raw else None
    if not is_json_type(ctype, accept):
        raise NotJSON(
            f"{response.url} answered {ctype or 'no Content-Type'} (HTTP {response.status}), not JSON: "
            "check the URL, and that no login page or proxy stands in front of the API"
        )
    try:
        return json.loads(response.body)
    except ValueError as exc:
        raise NotJSON(f"{response.url} answered invalid JSON ({exc})") from None


class BasicAuth(BaseModel):
    """HTTP basic credentials; the password comes from ``${ENV_VAR}`` and is redacted from logs."""

    model_config = ConfigDict(extra="forbid")

    username: str
    password: SecretStr

    @field_validator("password")
    @classmethod
    def _register(cls, value: SecretStr) -> SecretStr:
        secrets.register(value.get_secret_value())
        return value

    def header(self) -> str:
        raw = f"{self.username}:{self.password.get_secret_value()}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def as_tuple(self) -> tuple[str, str]:
        return (self.username, self.password.get_secret_value())


def polite_settings(concurrency: int = 4) -> SettingsDict:
    """``custom_settings`` for API connectors: AutoThrottle, few requests per host, Retry-After honoured."""
    return {
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.0,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(concurrency) / 2,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 408],
        "DOWNLOADER_MIDDLEWARES": {"connectors.http.RetryAfterMiddleware": 560},
    }


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date); None when unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    """Waits what a 429/503 response's ``Retry-After`` asks (capped) before RetryMiddleware retries it."""

    def __init__(self, max_wait: float, crawler: Crawler | None = None) -> None:
        self.max_wait = max_wait
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler.settings.getfloat("RETRY_AFTER_MAX", RETRY_AFTER_MAX), crawler)

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in RETRY_AFTER_CODES or request.meta.get("dont_retry"):
            return response
        header = response.headers.get(b"Retry-After")
        delay = parse_retry_after(header.decode("latin-1") if header else None)
        if delay is None or delay <= 0:
            return response
        delay = min(delay, self.max_wait)
        logger.info("%s answered %d; waiting %.1f s (Retry-After)", request.url, response.status, delay)
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value("pushcrawl/retry_after_waits")
        await sleep(delay)
        return response


def auth_headers(auth: BasicAuth | None) -> dict[str, str]:
    return {"Authorization": auth.header()} if auth is not None else {}


def fetch(
    url: str,
    *,
    what: str,
    hint: str,
    params: Mapping[str, str | int] | None = None,
    auth: BasicAuth | None = None,
    timeout: float = 15.0,
    session: requests.Session | None = None,
    data: dict[str, str] | None = None,
    auth_option: str = "auth",
    headers: dict[str, str] | None = None,
    refused: str | None = None,
) -> requests.Response:
    """GET ``url`` for a ping (POST ``data`` when given; ``session`` keeps cookies across calls); raise
    ConnectorError naming ``what`` and the ``hint`` to check on failure. ``auth_option`` is the connector
    option that holds ``auth``, named in the message when the server refuses it; ``refused`` replaces that
    advice when the credentials travel in ``session`` (connectors.auth)."""
    # Any: a requests.Session or the requests module itself: the same get/post, no common type in types-requests
    http: Any = session or requests
    sent = {**(headers or {}), **auth_headers(auth)}
    for attempt in range(3):
        try:
            if data is not None:
                resp: requests.Response = http.post(url, params=params, data=data, headers=sent, timeout=timeout)
            else:
                resp = http.get(url, params=params, headers=sent, timeout=timeout)
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot reach {what} at {url} ({exc}); check the URL and that it is up") from None
        wait = parse_retry_after(resp.headers.get("Retry-After")) if resp.status_code in RETRY_AFTER_CODES else None
        if wait is None or wait > PING_RETRY_AFTER_MAX or attempt == 2:
            break
        time.sleep(wait)  # a busy server asked us to come back: ping waits like the crawl does
    if resp.status_code in (401, 403):
        todo = refused or (f"check {auth_option}.username and {auth_option}.password" if auth else f"set {auth_option}")
        raise ConnectorError(f"{what} at {url} refused access (HTTP {resp.status_code}); {todo}")
    if resp.status_code == 404:
        raise ConnectorError(f"{what} not found at {url} (HTTP 404); {hint}")
    if resp.status_code >= 400:
        raise ConnectorError(f"{what} at {url} answered HTTP {resp.status_code}{_said(resp)}; {hint}")
    return resp


def _said(resp: requests.Response) -> str:
    """The reason a JSON error body gives (``message`` or ``detail``, as Wagtail/DRF send), quoted short."""
    try:
        body = resp.json() if is_json_type(resp.headers.get("Content-Type")) else None
    except ValueError:
        return ""
    reason = body.get("message") or body.get("detail") if isinstance(body, dict) else None
    return f" ({str(reason)[:200]})" if reason else ""


def get_json(
    url: str,
    *,
    what: str,
    hint: str,
    params: Mapping[str, str | int] | None = None,
    auth: BasicAuth | None = None,
    timeout: float = 15.0,
    session: requests.Session | None = None,
    data: dict[str, str] | None = None,
    auth_option: str = "auth",
) -> JSONData:
    """``fetch`` ``url`` asking for JSON and return it; raise ConnectorError naming ``what`` and the ``hint``
    to check, and for an answer that is not JSON the URL and the Content-Type received."""
    resp = fetch(
        url,
        what=what,
        hint=hint,
        params=params,
        auth=auth,
        timeout=timeout,
        session=session,
        data=data,
        auth_option=auth_option,
        headers=JSON_HEADERS,
    )
    ctype = resp.headers.get("Content-Type")
    if not is_json_type(ctype):
        raise ConnectorError(
            f"{what} at {resp.url} answered {ctype or 'no Content-Type'}, not JSON (HTTP {resp.status_code}); {hint}"
        )
    try:
        return resp.json()
    except ValueError as exc:
        raise ConnectorError(f"{what} at {resp.url} answered invalid JSON ({exc}); {hint}") from None
