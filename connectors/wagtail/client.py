"""Wagtail API v2 endpoints: URL building, listing pages (``offset``/``limit``), and ``ping``.

The API pages with ``offset`` and ``limit`` (``WAGTAILAPI_LIMIT_MAX``, 20 by default, caps ``limit``) and
reports ``meta.total_count``; ``order=id`` keeps pages stable while we read them. ``fields=*`` asks for
every field: on ``/pages/`` without ``type=`` that is the base Page fields only, so bodies need the detail
view (or ``page_types`` in the options, which lists each type with its own fields).
"""

from __future__ import annotations

from urllib.parse import urlencode

from connectors.base import ConnectorOptions
from connectors.http import BasicAuth, get_json
from crawler.errors import ConnectorError
from crawler.jsontypes import JSONData, JSONObject

HINT = "check base_url and api_path, and that wagtail.api.v2 is enabled and routed (api_router.urls)"


class WagtailOptions(ConnectorOptions):
    base_url: str
    #: HTTP basic credentials for a site behind a login (password from ${ENV}, redacted)
    auth: BasicAuth | None = None
    api_path: str = "/api/v2/"
    #: list pages of these types only (``app.Model``), with all their fields in the listing (no detail calls)
    page_types: list[str] = []
    #: fields that make the body; default: every rich-text field and StreamField
    body_fields: list[str] = []
    images: bool = True
    documents: bool = True
    #: items per listing request; Wagtail refuses more than WAGTAILAPI_LIMIT_MAX (20 unless raised)
    page_size: int = 20


def api_root(options: WagtailOptions) -> str:
    return options.base_url.rstrip("/") + "/" + options.api_path.strip("/") + "/"


def listing_url(options: WagtailOptions, endpoint: str, offset: int, page_type: str | None = None) -> str:
    params: JSONObject = {"fields": "*", "order": "id", "offset": offset, "limit": options.page_size}
    if page_type:
        params["type"] = page_type
    return f"{api_root(options)}{endpoint}/?{urlencode(params)}"


def listing_items(data: JSONData, url: str) -> tuple[list[JSONObject], int]:
    """A listing response → (items, total_count); ValueError when it is not a Wagtail listing."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        message = data.get("message") if isinstance(data, dict) else None
        raise ValueError(f"{url}: not a Wagtail listing ({message or 'no items'})")
    total = (data.get("meta") or {}).get("total_count")
    if not isinstance(total, int):
        raise ValueError(f"{url}: listing without meta.total_count")
    return [i for i in data["items"] if isinstance(i, dict)], total


def remaining_offsets(total: int, page_size: int) -> range:
    """Offsets of the listing requests after the first one."""
    return range(page_size, total, page_size)


def ping(options: WagtailOptions) -> None:
    url = f"{api_root(options)}pages/"
    # ask for a full page: a page_size above the site's WAGTAILAPI_LIMIT_MAX is a 400 here, not in the crawl
    hint = f"{HINT}; a 400 about limit means page_size ({options.page_size}) is above the site's maximum"
    data = get_json(url, what="Wagtail API", hint=hint, params={"limit": options.page_size}, auth=options.auth)
    try:
        listing_items(data, url)
    except ValueError as exc:
        raise ConnectorError(f"{exc}; {HINT}") from None
    for page_type in options.page_types:
        typed = get_json(
            url,
            what="Wagtail API",
            hint=f"page type {page_type!r} must be 'app_label.ModelName' of a page model",
            params={"limit": 1, "type": page_type},
            auth=options.auth,
        )
        listing_items(typed, url)
