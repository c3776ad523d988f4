"""Bearer authentication and key scopes.

Keys are given as ``SECRET`` (full access) or ``SECRET:SCOPE[+SCOPE...]``, a scope being one of
``push`` (items of every source), ``push=<sourceId>`` (items of that source only), ``identities``
(security identity providers), ``view`` (Platform GETs, search, search tokens). Push and identity keys may
also read the Platform API (a Push source's key has "Sources - View", as in Coveo). Creating sources,
fields and providers needs a full key. A missing key is 401 ``UNAUTHORIZED``, an unknown one 401
``INVALID_TOKEN``, a key without the needed scope 403 ``ACCESS_DENIED`` (docs/push-api-contract.md, "Errors").

Lenient dev mode: with no keys configured, any non-empty Bearer is accepted with full access.

The local pages (``/local/*`` and the Content Browser) obey the keys too (issue 17): a browser cannot send a
Bearer header, so ``/login`` exchanges a ``view`` key (typed into a form, or a one-time link printed by
``pushcrawl serve``) for a random session id kept server-side in an HttpOnly, SameSite=Strict cookie. The
cookie is accepted on the local pages only, never on the Push/Platform/Search routes, so a cross-site form
cannot push with it. Sessions live in memory: restarting the server logs everyone out, which is the point.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.wrappers import Request

from crawler.jsontypes import JSONObject
from crawler.localapi.apierror import ApiError


@dataclass(frozen=True)
class Caller:
    scopes: frozenset[str] | None = None  # None = full access
    user_ids: list[JSONObject] | None = field(default=None, hash=False)  # set for a search token

    def can(self, capability: str, target: str | None = None) -> bool:
        if self.user_ids is not None:
            return capability == "search"
        if self.scopes is None:
            return True
        if capability == "push":
            return "push" in self.scopes or f"push={target}" in self.scopes
        if capability == "files":
            return any(s == "push" or s.startswith("push=") or s == "identities" for s in self.scopes)
        if capability == "read":
            return bool(self.scopes)
        if capability == "search":
            return "view" in self.scopes
        return capability in self.scopes


def parse_keys(specs: list[str] | None) -> dict[str, frozenset[str] | None]:
    keys: dict[str, frozenset[str] | None] = {}
    for spec in specs or []:
        secret, _, scope = spec.strip().partition(":")
        if secret:
            keys[secret] = frozenset(s.strip() for s in scope.split("+") if s.strip()) if scope else None
    return keys


SESSION_COOKIE = "pushcrawl_session"
SESSION_TTL_S = 12 * 3600.0


class Auth:
    def __init__(self, keys: list[str] | None) -> None:
        self.keys = parse_keys(keys)
        self._sessions: dict[str, tuple[frozenset[str] | None, float]] = {}  # session id -> (scopes, expiry)
        self._once: set[str] = set()  # one-time login links not used yet
        self._lock = threading.Lock()

    @property
    def dev_mode(self) -> bool:
        return not self.keys

    def caller(self, request: Request, token_user: Callable[[str], list[JSONObject] | None] | None = None) -> Caller:
        header = request.headers.get("Authorization", "")
        scheme, _, bearer = header.partition(" ")
        bearer = bearer.strip()
        if scheme.lower() != "bearer" or not bearer:
            raise ApiError(401, "UNAUTHORIZED", "Missing 'Authorization: Bearer <API key>' header.")
        user_ids = token_user(bearer) if token_user is not None else None
        if user_ids is not None:
            return Caller(user_ids=user_ids)
        if self.dev_mode:
            return Caller()
        if bearer not in self.keys:
            raise ApiError(401, "INVALID_TOKEN", "The API key or token is unknown, disabled or expired.")
        return Caller(scopes=self.keys[bearer])

    def scopes_of(self, key: str) -> frozenset[str] | None:
        """The scopes of a configured key; ApiError 401 when it is unknown."""
        if key not in self.keys:
            raise ApiError(401, "INVALID_TOKEN", "The API key or token is unknown, disabled or expired.")
        return self.keys[key]

    def one_time_link(self) -> str:
        """A secret that logs a browser in once with full (view) access; printed by ``pushcrawl serve``."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._once.add(token)
        return token

    def open_session(self, key: str | None = None, once: str | None = None) -> str:
        """A new session id for a ``view`` key or an unused one-time token (ApiError 401/403 otherwise)."""
        if once is not None:
            with self._lock:
                if once not in self._once:
                    raise ApiError(401, "INVALID_TOKEN", "This login link was already used or never existed.")
                self._once.discard(once)
            scopes: frozenset[str] | None = frozenset({"view"})
        else:
            scopes = self.scopes_of(key or "")
            self.require(Caller(scopes=scopes), "search")
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session] = (scopes, time.monotonic() + SESSION_TTL_S)
        return session

    def close_session(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)

    def page_caller(self, request: Request) -> Caller:
        """Who is asking for a local page: a session cookie, else a Bearer key (tools such as curl)."""
        if self.dev_mode:
            return Caller()
        session = request.cookies.get(SESSION_COOKIE, "")
        with self._lock:
            found = self._sessions.get(session)
            if found is not None and found[1] < time.monotonic():
                del self._sessions[session]
                found = None
        if found is not None:
            return Caller(scopes=found[0])
        return self.caller(request)

    @staticmethod
    def require(caller: Caller, capability: str, target: str | None = None) -> None:
        if not caller.can(capability, target):
            what = f"{capability} on {target}" if target else capability
            raise ApiError(403, "ACCESS_DENIED", f"The API key does not have the privilege needed ({what}).")
