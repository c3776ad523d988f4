"""Bearer authentication and key scopes.

Keys are given as ``SECRET`` (full access) or ``SECRET:SCOPE[+SCOPE...]``, a scope being one of
``push`` (items of every source), ``push=<sourceId>`` (items of that source only), ``identities``
(security identity providers), ``view`` (Platform GETs, search, search tokens). Push and identity keys may
also read the Platform API (a Push source's key has "Sources - View", as in Coveo). Creating sources,
fields and providers needs a full key. A missing key is 401 ``UNAUTHORIZED``, an unknown one 401
``INVALID_TOKEN``, a key without the needed scope 403 ``ACCESS_DENIED`` (CONTRACT.md §1).

Lenient dev mode: with no keys configured, any non-empty Bearer is accepted with full access.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request

from crawler.localapi.apierror import ApiError


@dataclass(frozen=True)
class Caller:
    scopes: frozenset[str] | None = None  # None = full access
    user_ids: list[dict[str, Any]] | None = field(default=None, hash=False)  # set for a search token

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


class Auth:
    def __init__(self, keys: list[str] | None) -> None:
        self.keys = parse_keys(keys)

    @property
    def dev_mode(self) -> bool:
        return not self.keys

    def caller(
        self, request: Request, token_user: Callable[[str], list[dict[str, Any]] | None] | None = None
    ) -> Caller:
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

    @staticmethod
    def require(caller: Caller, capability: str, target: str | None = None) -> None:
        if not caller.can(capability, target):
            what = f"{capability} on {target}" if target else capability
            raise ApiError(403, "ACCESS_DENIED", f"The API key does not have the privilege needed ({what}).")
