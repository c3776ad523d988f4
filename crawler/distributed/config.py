"""``distributed:`` — where a scaled-out run's shared frontier and state live (a Redis server), and its timings.

Given globally or per site (a site's block wins). The password comes only from the environment
(``password: ${REDIS_PASSWORD}``); a password written into the URL or as a literal is refused, so it can
never reach a log line, a report or ``ps`` output.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from crawler.errors import SettingsError
from crawler.jsontypes import JSONObject

_ENV_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}")


class DistributedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redis_url: str  # redis://host:port/db (or rediss:// for TLS)
    password: SecretStr | None = None  # ${ENV} only
    # a worker writes its heartbeat this often; one silent for worker_timeout_s counts as dead
    heartbeat_s: float = Field(1.0, gt=0)
    worker_timeout_s: float = Field(15.0, gt=0)
    # how long the coordinator waits for its local workers to join before it gives the run up
    join_timeout_s: float = Field(120.0, gt=0)

    @field_validator("redis_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError(f"a Redis URL like redis://host:6379/0 (got {value!r})")
        if parts.password:
            raise ValueError("no password in the URL: give it as 'password: ${REDIS_PASSWORD}' (redacted everywhere)")
        return value

    def __str__(self) -> str:
        return self.redis_url


def check_password_refs(data: JSONObject, file: str) -> None:
    """Refuse a literal Redis password in settings.yaml (DESIGN.md rule 4), globally or under any site."""
    blocks: list[tuple[str, object]] = [("distributed", data.get("distributed"))]
    sites = data.get("sites")
    if isinstance(sites, dict):
        blocks += [
            (f"sites.{name}.distributed", (s or {}).get("distributed"))
            for name, s in sites.items()
            if isinstance(s, dict)
        ]
    for where, block in blocks:
        if not isinstance(block, dict) or block.get("password") is None:
            continue
        value = block["password"]
        if not (isinstance(value, str) and _ENV_REF.fullmatch(value.strip())):
            raise SettingsError(file, f"{where}.password", "a reference to the environment like ${REDIS_PASSWORD}")
