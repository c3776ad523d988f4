"""WordPress REST API: options, URLs, auth headers, paging headers and ``ping`` (blocking, via requests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from pydantic import Field, HttpUrl, field_validator, model_validator

from connectors.base import ConnectorOptions
from connectors.http import BasicAuth, is_json_type
from connectors.wordpress.mapping import ProtectedMode
from crawler.errors import ConnectorError
from crawler.jsontypes import JSONObject

API_ROOT = "/wp-json/"
API = "/wp-json/wp/v2/"
PING_TIMEOUT_S = 15.0


class WordPressOptions(ConnectorOptions):
    """``options:`` of a ``connector: wordpress`` site."""

    base_url: HttpUrl
    auth: BasicAuth | None = None  # an application password; required for private items, drafts, identities
    post_types: list[str] = Field(default_factory=lambda: ["posts", "pages"])  # REST bases, e.g. "books"
    include_media: bool = True
    include_drafts: bool = False  # drafts, pending, scheduled posts (needs auth): author + roles see them
    protected_content: ProtectedMode = "skip"  # password-protected posts: skip | title_only | full
    private_roles: list[str] = Field(default_factory=lambda: ["administrator", "editor"])
    page_size: int = Field(100, ge=1, le=100)

    @field_validator("post_types")
    @classmethod
    def _bases(cls, value: list[str]) -> list[str]:
        if not value or any(not t or "/" in t for t in value):
            raise ValueError("a non-empty list of REST bases such as [posts, pages, books]")
        return value

    @model_validator(mode="after")
    def _full_needs_auth(self) -> WordPressOptions:
        if self.protected_content == "full" and self.auth is None:
            raise ValueError("protected_content: full needs auth (a user who can edit the protected posts)")
        return self

    @property
    def root(self) -> str:
        return str(self.base_url).rstrip("/")


def api_url(options: WordPressOptions, path: str, params: JSONObject | None = None) -> str:
    url = f"{options.root}{API}{path}"
    return f"{url}?{urlencode(params, safe=',:')}" if params else url


def headers(options: WordPressOptions) -> dict[str, str]:
    out = {"Accept": "application/json"}
    if options.auth is not None:
        out["Authorization"] = options.auth.header()
    return out


def statuses(options: WordPressOptions) -> str:
    """Post statuses to list: anonymous readers see only published ones."""
    if options.auth is None:
        return "publish"
    extra = ",draft,pending,future" if options.include_drafts else ""
    return "publish,private" + extra


# Any: Scrapy's Headers (bytes keys) or requests' headers (str keys): no common mapping type
def total_pages(response_headers: Any) -> int:
    raw = response_headers.get(b"X-WP-TotalPages") or response_headers.get("X-WP-TotalPages") or b"1"
    try:
        return max(1, int(raw.decode() if isinstance(raw, bytes) else raw))
    except ValueError:
        return 1


def overlap(cursor: str) -> str:
    """``modified_after`` is exclusive and to the second: re-read the boundary second so nothing slips."""
    try:
        return (datetime.fromisoformat(cursor) - timedelta(seconds=1)).isoformat()
    except ValueError:
        return cursor


def _error_code(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    return f" ({body.get('code')}: {body.get('message')})" if isinstance(body, dict) else ""


def _get(options: WordPressOptions, url: str) -> requests.Response:
    try:
        return requests.get(url, headers=headers(options), timeout=PING_TIMEOUT_S, allow_redirects=True)
    except requests.RequestException as exc:
        raise ConnectorError(f"cannot reach WordPress at {options.root}: {type(exc).__name__}: {exc}") from exc


def ping(options: WordPressOptions) -> None:
    """Raise ConnectorError unless ``base_url`` is WordPress with REST API v2 and the credentials work."""
    resp = _get(options, options.root + API_ROOT)
    if resp.status_code == 404:
        raise ConnectorError(
            f"no WordPress REST API at {options.root}{API_ROOT} (404): is base_url the site's root "
            "and is the REST API enabled?"
        )
    if resp.status_code in (401, 403):
        raise ConnectorError(
            f"WordPress at {options.root} refused the credentials ({resp.status_code}{_error_code(resp)}): "
            "check auth.username and the application password"
        )
    if resp.status_code >= 400:
        raise ConnectorError(f"WordPress at {options.root}{API_ROOT} answered {resp.status_code}")
    kind = resp.headers.get("Content-Type")
    try:
        if not is_json_type(kind):  # checked first: an HTML page may parse as something
            raise ValueError(kind)
        index = resp.json()
    except ValueError:
        raise ConnectorError(
            f"{options.root}{API_ROOT} answered {kind or 'no Content-Type'}, not JSON: not a WordPress site, or "
            "its REST API is disabled or hidden behind a login page"
        ) from None
    if not isinstance(index, dict) or "wp/v2" not in (index.get("namespaces") or []):
        raise ConnectorError(f"{options.root} has a REST index but no 'wp/v2' namespace: not WordPress 4.7+?")
    probe = api_url(options, "users/me" if options.auth else "posts", {"_fields": "id", "per_page": 1})
    resp = _get(options, probe)
    if resp.status_code in (401, 403):
        who = f"user {options.auth.username!r}" if options.auth else "anonymous readers"
        raise ConnectorError(
            f"WordPress at {options.root} refused {who} ({resp.status_code}{_error_code(resp)}): "
            "check auth.username and the application password (Users → Profile → Application Passwords)"
        )
    if resp.status_code >= 400:
        raise ConnectorError(f"WordPress at {options.root}: {probe} answered {resp.status_code}")
