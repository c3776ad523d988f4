"""Drupal JSON:API: options, URL building (filters, includes, sparse fieldsets) and ``ping`` via requests."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import requests
from pydantic import Field, HttpUrl, field_validator

from connectors.base import ConnectorOptions
from connectors.http import BasicAuth, is_json_type
from crawler.errors import ConnectorError
from crawler.jsontypes import JSONObject

API = "/jsonapi"
PING_TIMEOUT_S = 15.0
JSONAPI_TYPE = "application/vnd.api+json"


class DrupalOptions(ConnectorOptions):
    """``options:`` of a ``connector: drupal`` site."""

    base_url: HttpUrl
    content_types: list[str] = Field(default_factory=lambda: ["article", "page"])
    auth: BasicAuth | None = None  # basic_auth module; needed for unpublished nodes and identities
    include_unpublished: bool = False
    unpublished_roles: list[str] = Field(default_factory=lambda: ["administrator", "content_editor"])
    # entity-reference fields to taxonomy terms, per content type (a field a type lacks makes JSON:API fail)
    taxonomy_fields: dict[str, list[str]] = Field(default_factory=lambda: {"article": ["field_tags"]})
    page_size: int = Field(50, ge=1, le=50)

    @field_validator("content_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        if not value or any(not t or "/" in t for t in value):
            raise ValueError("a non-empty list of content type machine names such as [article, page]")
        return value

    @property
    def root(self) -> str:
        return str(self.base_url).rstrip("/")


def headers(options: DrupalOptions) -> dict[str, str]:
    out = {"Accept": JSONAPI_TYPE}
    if options.auth is not None:
        out["Authorization"] = options.auth.header()
    return out


def timestamp(cursor: str) -> int:
    """JSON:API compares ``changed`` as a Unix timestamp; step back a second since ``>`` is strict."""
    return int(datetime.fromisoformat(cursor).timestamp()) - 1


def nodes_url(options: DrupalOptions, bundle: str, since: str | None = None, ids_only: bool = False) -> str:
    params: JSONObject = {"page[limit]": options.page_size, "sort": "drupal_internal__nid"}
    if not options.include_unpublished:
        params["filter[status]"] = 1
    if ids_only:
        params[f"fields[node--{bundle}]"] = "drupal_internal__nid,path,status"
    else:
        params["include"] = ",".join(["uid", *options.taxonomy_fields.get(bundle, [])])
        params["fields[user--user]"] = "display_name,name"
    if since:
        params["filter[changed][value]"] = timestamp(since)
        params["filter[changed][operator]"] = ">"
    return f"{options.root}{API}/node/{bundle}?{urlencode(params)}"


def users_url(options: DrupalOptions) -> str:
    params = {"page[limit]": options.page_size, "fields[user--user]": "name,mail,status,roles"}
    return f"{options.root}{API}/user/user?{urlencode(params)}"


def _get(options: DrupalOptions, url: str) -> requests.Response:
    try:
        return requests.get(url, headers=headers(options), timeout=PING_TIMEOUT_S)
    except requests.RequestException as exc:
        raise ConnectorError(f"cannot reach Drupal at {options.root}: {type(exc).__name__}: {exc}") from exc


def _refused(options: DrupalOptions, resp: requests.Response) -> ConnectorError:
    who = f"user {options.auth.username!r}" if options.auth else "anonymous requests"
    return ConnectorError(
        f"Drupal at {options.root} refused {who} ({resp.status_code}): check auth.username/password and that "
        "the basic_auth module is enabled"
    )


def ping(options: DrupalOptions) -> None:
    """Raise ConnectorError unless JSON:API answers at ``/jsonapi``, credentials work and the types exist."""
    resp = _get(options, options.root + API)
    if resp.status_code in (401, 403):
        raise _refused(options, resp)
    if resp.status_code == 404:
        raise ConnectorError(f"no JSON:API at {options.root}{API} (404): is the JSON:API module enabled?")
    if resp.status_code >= 400:
        raise ConnectorError(f"Drupal at {options.root}{API} answered {resp.status_code}")
    kind = resp.headers.get("Content-Type")
    try:
        if not is_json_type(kind, JSONAPI_TYPE):  # checked first: an HTML page may parse as something
            raise ValueError(kind)
        index = resp.json()
    except ValueError:
        raise ConnectorError(
            f"{options.root}{API} answered {kind or 'no Content-Type'}, not JSON:API: not a Drupal site, or a "
            "login page or proxy in front of it?"
        ) from None
    links = index.get("links") if isinstance(index, dict) else None
    if not isinstance(links, dict) or "jsonapi" not in index:
        raise ConnectorError(f"{options.root}{API} is JSON but not a JSON:API index: not a Drupal site?")
    missing = [t for t in options.content_types if f"node--{t}" not in links]
    if missing:
        known = sorted(k.removeprefix("node--") for k in links if k.startswith("node--"))
        raise ConnectorError(f"Drupal at {options.root} has no content type {missing} (known: {known})")
    one = options.model_copy(update={"page_size": 1})
    probe = _get(options, nodes_url(one, options.content_types[0], ids_only=True))
    if probe.status_code in (401, 403):
        raise _refused(options, probe)
