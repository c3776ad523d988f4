"""Region → Push API and Platform API hosts (docs/push-api-contract.md, "Hosts and authentication")."""

from __future__ import annotations

PUSH_HOSTS = {
    "us": "https://api.cloud.coveo.com",
    "ca": "https://api-ca.cloud.coveo.com",
    "eu": "https://api-eu.cloud.coveo.com",
    "au": "https://api-au.cloud.coveo.com",
    "hipaa": "https://apihipaa.cloud.coveo.com",
}

PLATFORM_HOSTS = {
    "us": "https://platform.cloud.coveo.com",
    "ca": "https://platform-ca.cloud.coveo.com",
    "eu": "https://platform-eu.cloud.coveo.com",
    "au": "https://platform-au.cloud.coveo.com",
    "hipaa": "https://platformhipaa.cloud.coveo.com",
}


def push_base(region: str, override: str | None = None) -> str:
    """Push API root, without the organization segment: ``<host>/push/v1``."""
    host = (override or PUSH_HOSTS[region]).rstrip("/")
    return host if host.endswith("/push/v1") else f"{host}/push/v1"


def platform_base(region: str, override: str | None = None) -> str:
    """Platform API root: ``<host>/rest``."""
    host = (override or PLATFORM_HOSTS[region]).rstrip("/")
    return host if host.endswith("/rest") else f"{host}/rest"


def logs_base(region: str, override: str | None = None) -> str:
    """Source Logs API root, ``<host>/logs/v1``: the Push API's host (docs/push-api-contract.md, "Source Logs
    API"), or the override's (a ``base_url`` given as ``<host>`` or ``<host>/push/v1``)."""
    host = (override or PUSH_HOSTS[region]).rstrip("/").removesuffix("/push/v1")
    return host if host.endswith("/logs/v1") else f"{host}/logs/v1"
