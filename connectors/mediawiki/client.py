"""MediaWiki Action API: request URLs (JSON, formatversion 2), continuation, error bodies, login and ``ping``.

Continuation follows the API's rule: send back every key of the response's ``continue`` object unchanged
with the original parameters. Errors arrive as HTTP 200 with an ``error`` object, so every response goes
through ``check`` before use.

Login uses a bot password (Special:BotPasswords) the way the API documents it: a login token from
``meta=tokens&type=login``, then ``action=login`` as a POST with ``lgname``/``lgpassword``/``lgtoken``; the
session lives in the cookies the wiki sets. Logged-in requests carry ``assert=user`` so that a session lost
mid-run fails loudly (``assertuserfailed``) instead of quietly answering as an anonymous reader.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from pydantic import Field

from connectors.base import ConnectorOptions
from connectors.http import BasicAuth, get_json
from crawler.errors import ConnectorError
from crawler.jsontypes import JSONData, JSONObject

HINT = "api_url must point at the wiki's api.php (e.g. https://wiki.example.org/w/api.php)"
REVISION_PROPS = {"rvprop": "content|timestamp|user|ids", "rvslots": "main"}


class MediaWikiOptions(ConnectorOptions):
    api_url: str
    #: a bot password (Special:BotPasswords): username "Account@BotName", password from ${ENV} (redacted);
    #: the connector logs in with action=login and keeps the session cookies
    auth: BasicAuth | None = None
    #: HTTP basic credentials for a proxy in front of the wiki (password from ${ENV}, redacted)
    http_auth: BasicAuth | None = None
    namespaces: list[int] = Field(default_factory=lambda: [0])
    #: "wikitext": page source from batched revision queries, reduced to text (fast);
    #: "rendered": HTML from action=parse, one request per page (templates expanded)
    content: Literal["wikitext", "rendered"] = "wikitext"
    #: titles per batched page query; the API allows 50 (500 for bots)
    batch_size: int = Field(50, ge=1, le=500)
    #: how far back list=recentchanges reaches ($wgRCMaxAge); older cursors fall back to a full listing
    rc_max_age_days: int = Field(90, ge=1)


#: error codes meaning "this request was answered as an anonymous reader": with a login, the session is gone
#: (``readapidenied`` too, as wikis older than 1.33 check read rights before ``assert``)
SESSION_LOST = frozenset({"assertuserfailed", "readapidenied"})
#: action=login results that mean the user name or the password is wrong (the rest: login not possible)
BAD_CREDENTIALS = frozenset({"Failed", "WrongPass", "WrongPluginPass", "NotExists", "EmptyPass"})
BOT_PASSWORD_HINT = (
    "check auth.username (Account@BotName, as Special:BotPasswords shows it) and auth.password "
    "(the generated bot password, not the account's own)"
)


class ApiError(Exception):
    """The API answered with an ``error`` object (or something that is not the API)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class LoginError(Exception):
    """``action=login`` did not log in; the message names the user (never the password) and what to check."""


def url(api_url: str, **params: str | int | None) -> str:
    params = {"format": "json", "formatversion": "2", **params}
    return f"{api_url}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def check(data: JSONData) -> JSONObject:
    if not isinstance(data, dict):
        raise ApiError("not a MediaWiki API response")
    error = data.get("error")
    if isinstance(error, dict):
        code = str(error.get("code", "?"))
        raise ApiError(f"{code}: {error.get('info', '')}", code)
    return data


def asserting(request_url: str) -> str:
    """The same API request with ``assert=user``: the wiki refuses it if the session is no longer logged in."""
    parts = urlsplit(request_url)
    params = dict(parse_qsl(parts.query))
    params["assert"] = "user"
    return parts._replace(query=urlencode(params)).geturl()


def login_token_url(api_url: str) -> str:
    return url(api_url, action="query", meta="tokens", type="login")


def login_token(data: JSONData) -> str:
    """The ``logintoken`` of a ``meta=tokens&type=login`` answer; LoginError if the wiki gives none."""
    try:
        check(data)
    except ApiError as exc:
        raise LoginError(f"the wiki gives no login token ({exc})") from None
    token = ((data.get("query") or {}).get("tokens") or {}).get("logintoken")
    if not isinstance(token, str) or not token:
        raise LoginError("the wiki gives no login token (meta=tokens&type=login needs MediaWiki 1.27 or newer)")
    return token


def login_form(auth: BasicAuth, token: str) -> dict[str, str]:
    """The POST body of ``action=login`` (the password travels in the body only, never in a URL)."""
    return {
        "action": "login",
        "format": "json",
        "formatversion": "2",
        "lgname": auth.username,
        "lgpassword": auth.password.get_secret_value(),
        "lgtoken": token,
    }


def _reason(login: JSONObject) -> str:
    reason = login.get("reason")
    if isinstance(reason, dict):  # with a non-default errorformat the reason is a message object
        reason = reason.get("text") or reason.get("*") or reason.get("code")
    return str(reason or "no reason given")


def check_login(data: JSONData, api_url: str, username: str) -> None:
    """Raise LoginError unless an ``action=login`` answer says ``Success``, saying what to fix."""
    try:
        check(data)
    except ApiError as exc:
        raise LoginError(
            f"MediaWiki at {api_url} does not accept action=login ({exc}); logging in needs bot passwords "
            "(Special:BotPasswords, MediaWiki 1.27 or newer) enabled by the wiki's admins"
        ) from None
    login = data.get("login")
    if not isinstance(login, dict):
        login = {"reason": "no login result in the answer"}
    result = str(login.get("result", ""))
    if result == "Success":
        return
    reason = _reason(login)
    user = f"user {username!r}"
    if result in BAD_CREDENTIALS:
        hint = BOT_PASSWORD_HINT
        if "@" not in username:
            hint = f"a bot password's user name has the form Account@BotName; {hint}"
        raise LoginError(f"MediaWiki at {api_url} refused the login of {user} ({result}: {reason}); {hint}")
    if result == "Throttled":
        raise LoginError(f"MediaWiki at {api_url} refused the login of {user} for now ({reason}); wait and retry")
    if result in ("NeedToken", "WrongToken"):
        raise LoginError(
            f"MediaWiki at {api_url} did not match the login token to the session ({result}); the session cookie "
            "was not kept: check that nothing between the crawler and the wiki drops cookies"
        )
    raise LoginError(
        f"MediaWiki at {api_url} cannot log in {user} with action=login ({result or '?'}: {reason}); "
        "logging in needs bot passwords (Special:BotPasswords) enabled, and no login extension replacing them"
    )


def continued(previous_url: str, cont: JSONObject) -> str:
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
    """Siteinfo anonymously (is this a MediaWiki API?), then, with ``auth``, log in and read siteinfo again."""
    session = requests.Session()

    def get(request_url: str, form: dict[str, str] | None = None) -> JSONData:
        # a 401/403 here comes from an HTTP proxy in front of the wiki, not from the wiki's own login
        return get_json(
            request_url,
            what="MediaWiki API",
            hint=HINT,
            auth=options.http_auth,
            session=session,
            data=form,
            auth_option="http_auth",
        )

    api = options.api_url
    private = False
    data = get(siteinfo_url(api))
    try:
        check(data)
    except ApiError as exc:
        if exc.code != "readapidenied":
            raise ConnectorError(f"MediaWiki API at {api} refused the query ({exc}); {HINT}") from None
        if options.auth is None:
            raise ConnectorError(
                f"the wiki at {api} requires a login to read ({exc}); set auth: {{username: Account@BotName, "
                "password: ${ENV_VAR}} with a bot password from the wiki's Special:BotPasswords"
            ) from None
        private = True  # a MediaWiki answered: log in below and read siteinfo as the user
    if not private and not (data.get("query") or {}).get("general"):
        raise ConnectorError(f"{api} answered JSON without siteinfo; {HINT}")
    if options.auth is None:
        return
    username = options.auth.username
    try:
        token = login_token(get(login_token_url(api)))
        check_login(get(api, login_form(options.auth, token)), api, username)
    except LoginError as exc:
        raise ConnectorError(str(exc)) from None
    try:
        check(get(asserting(siteinfo_url(api))))
    except ApiError as exc:
        if exc.code == "assertuserfailed":
            raise ConnectorError(
                f"MediaWiki at {api} logged in user {username!r} but the next request was anonymous ({exc}); "
                "the session cookie was not kept: check that nothing between the crawler and the wiki drops cookies"
            ) from None
        raise ConnectorError(
            f"MediaWiki at {api} logged in user {username!r}, who may not read the wiki ({exc}); give the bot "
            "password the basic rights grant, or the account read access"
        ) from None
