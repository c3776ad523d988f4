"""MediaWiki Action API: request URLs (JSON, formatversion 2), continuation, error bodies and ``ping``.

Continuation follows the API's rule: send back every key of the response's ``continue`` object unchanged
with the original parameters. Errors arrive as HTTP 200 with an ``error`` object, so every response goes
through ``check`` before use.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import Field

from connectors.base import ConnectorOptions
from connectors.http import BasicAuth, get_json
from crawler.errors import ConnectorError

HINT = "api_url must point at the wiki's api.php (e.g. https://wiki.example.org/w/api.php)"
REVISION_PROPS = {"rvprop": "content|timestamp|user|ids", "rvslots": "main"}


class MediaWikiOptions(ConnectorOptions):
    api_url: str
    #: HTTP basic credentials for a site behind a login (password from ${ENV}, redacted)
    auth: BasicAuth | None = None
    namespaces: list[int] = Field(default_factory=lambda: [0])
    #: "wikitext": page source from batched revision queries, reduced to text (fast);
    #: "rendered": HTML from action=parse, one request per page (templates expanded)
    content: Literal["wikitext", "rendered"] = "wikitext"
    #: titles per batched page query; the API allows 50 (500 for bots)
    batch_size: int = Field(50, ge=1, le=500)
    #: how far back list=recentchanges reaches ($wgRCMaxAge); older cursors fall back to a full listing
    rc_max_age_days: int = Field(90, ge=1)


class ApiError(Exception):
    """The API answered with an ``error`` object (or something that is not the API)."""


def url(api_url: str, **params: Any) -> str:
    params = {"format": "json", "formatversion": "2", **params}
    return f"{api_url}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def check(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError("not a MediaWiki API response")
    error = data.get("error")
    if isinstance(error, dict):
        raise ApiError(f"{error.get('code', '?')}: {error.get('info', '')}")
    return data


def continued(previous_url: str, cont: dict[str, Any]) -> str:
    """The next request of a continued query: the original parameters plus the ``continue`` object."""
    parts = urlsplit(previous_url)
    params = {k: v for k, v in parse_qsl(parts.query) if not k.endswith("continue")}
    return parts._replace(query=urlencode({**params, **cont})).geturl()


def siteinfo_url(api_url: str) -> str:
    return url(api_url, action="query", meta="siteinfo", siprop="general|namespaces")


def allpages_url(api_url: str, namespace: int) -> str:
    return url(
        api_url,
        action="query",
        list="allpages",
        apnamespace=namespace,
        aplimit="max",
        apfilterredir="nonredirects",
    )


def pages_url(api_url: str, *, pageids: list[int] | None = None, titles: list[str] | None = None) -> str:
    return url(
        api_url,
        action="query",
        prop="revisions|categories|info",
        cllimit="max",
        clshow="!hidden",
        pageids="|".join(map(str, pageids)) if pageids else None,
        titles="|".join(titles) if titles else None,
        **REVISION_PROPS,
    )


def parse_url(api_url: str, pageid: int) -> str:
    return url(api_url, action="parse", pageid=pageid, prop="text", disablelimitreport=1, disableeditsection=1)


def recentchanges_url(api_url: str, since: str, namespaces: list[int]) -> str:
    return url(
        api_url,
        action="query",
        list="recentchanges",
        rcstart=since,
        rcdir="newer",
        rclimit="max",
        rcnamespace="|".join(map(str, namespaces)),
        rctype="edit|new|log",
        rcprop="title|timestamp|ids|loginfo",
    )


def deletions_url(api_url: str, since: str) -> str:
    return url(
        api_url,
        action="query",
        list="logevents",
        letype="delete",
        lestart=since,
        ledir="newer",
        lelimit="max",
        leprop="title|type|timestamp|ids",
    )


def ping(options: MediaWikiOptions) -> None:
    data = get_json(siteinfo_url(options.api_url), what="MediaWiki API", hint=HINT, auth=options.auth)
    try:
        check(data)
    except ApiError as exc:
        if "readapidenied" in str(exc):
            raise ConnectorError(
                f"the wiki at {options.api_url} requires a login to read ({exc}); give a token or "
                "username/password the wiki accepts, or crawl a public wiki"
            ) from None
        raise ConnectorError(f"MediaWiki API at {options.api_url} refused the query ({exc}); {HINT}") from None
    general = (data.get("query") or {}).get("general") if isinstance(data, dict) else None
    if not general:
        raise ConnectorError(f"{options.api_url} answered JSON without siteinfo; {HINT}")
