"""Open a push target: a Push API client and the source id for a site, plus what to close at the end.

``local`` starts the embedded local Push API (crawler.localapi) on 127.0.0.1 with a one-time API key, and
creates the site's source (and, for ``content_system`` security, its identity provider) on first use.
``coveo`` talks to a Coveo organization (or anything speaking its API, such as a proxy or ``pushcrawl
serve``): region → hosts (crawler.pushapi.endpoints) unless ``base_url``/``platform_url`` override them,
the source resolved by name through the Sources API unless ``source_id`` is given, the key from the
environment only (crawler.config refuses a literal one).
"""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from crawler import secrets
from crawler.config import CoveoTarget, LocalTarget, Settings
from crawler.errors import TargetError
from crawler.localproc import LocalAPIProcess
from crawler.naming import provider_id, source_name_for
from crawler.pushapi import endpoints
from crawler.pushapi.client import PushApiClient
from crawler.pushapi.core import RetryPolicy
from crawler.pushapi.logs import SourceLogsClient

if TYPE_CHECKING:  # the server itself loads only when a local target is used (start_local)
    from crawler.localapi import LocalPushAPI


class LocalServer(Protocol):
    """What a run uses of its local target's server, in this process or a child (crawler.localproc)."""

    @property
    def base_url(self) -> str: ...
    def wait_idle(self, timeout: float = 60.0) -> bool: ...
    def stop(self) -> None: ...


__all__ = ["AdminTarget", "OpenTarget", "open_admin", "open_target", "source_name_for"]

VISIBILITY = {"everyone": "SHARED", "specific": "SECURED", "content_system": "SECURED"}


@dataclass
class OpenTarget:
    name: str
    client: PushApiClient
    source_name: str
    source_id: str
    is_local: bool
    wait_idle: Callable[[float], bool] = lambda timeout: True
    closers: list[Callable[[], None]] = field(default_factory=list)
    location: str = ""  # where the data is, for the summary
    logs: SourceLogsClient | None = None  # the Source Logs API (crawler.reconcile reads it)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()


def _retry(settings: Settings) -> RetryPolicy:
    p = settings.push
    return RetryPolicy(p.retry_max_attempts, p.retry_backoff_base_s, p.retry_backoff_max_s)


def start_local(settings: Settings, target: LocalTarget) -> tuple[LocalPushAPI, PushApiClient]:
    """Start the embedded local Push API (in this process) and a client for it."""
    from crawler.localapi import LocalPushAPI  # the server loads only when a local target is used

    key = _local_key()
    # no one browses a crawl's embedded server (its key is this run's): its pages load only if asked for
    server = LocalPushAPI(
        data_dir=settings.resolve_path(target.data_dir),
        org_id=target.organization_id,
        api_keys=[key],
        warm_browser=False,
    )
    server.start()
    return server, _local_client(settings, target, server.base_url, key)


def start_local_for_crawl(settings: Settings, target: LocalTarget) -> tuple[LocalServer, PushApiClient]:
    """The crawl's embedded target: in a child process unless ``process: thread`` (crawler/localproc.py)."""
    if target.process == "thread":
        return start_local(settings, target)
    key = _local_key()
    server = LocalAPIProcess(settings.resolve_path(target.data_dir), target.organization_id, [key])
    server.start()
    return server, _local_client(settings, target, server.base_url, key, server.gone)


def _local_key() -> str:
    key = pysecrets.token_urlsafe(24)  # one-time: lives as long as this server
    secrets.register(key)
    return key


def _local_client(
    settings: Settings, target: LocalTarget, base_url: str, key: str, gone: Callable[[], str | None] | None = None
) -> PushApiClient:
    # gone: the child process's own answer (LocalAPIProcess.gone); a server in this process cannot exit alone
    return PushApiClient(
        f"{base_url}/push/v1",
        f"{base_url}/rest",
        target.organization_id,
        key,
        settings.push.timeout_s,
        _retry(settings),
        gone=gone,
    )


def coveo_client(settings: Settings, target: CoveoTarget) -> PushApiClient:
    key = target.api_key.get_secret_value()
    secrets.register(key)
    return PushApiClient(
        endpoints.push_base(target.region, target.base_url),
        endpoints.platform_base(target.region, target.platform_url),
        target.organization_id,
        key,
        settings.push.timeout_s,
        _retry(settings),
    )


def open_target(settings: Settings, site: str, override: str | None = None, create_source: bool = True) -> OpenTarget:
    name, target = settings.target_for(site, override)
    source_name = source_name_for(settings, site, target)
    if isinstance(target, LocalTarget):
        server, client = start_local_for_crawl(settings, target)
        try:
            mode = settings.sites[site].security.mode
            source_id = _ensure_source(client, source_name, mode, create_source)
            if mode == "content_system":
                # like the source, the provider is created and attached on demand on the local target
                client.put_security_provider(provider_id(settings, target, source_name), [source_id])
        except BaseException:
            server.stop()
            raise
        return OpenTarget(
            name,
            client,
            source_name,
            source_id,
            True,
            server.wait_idle,
            [server.stop],
            location=str(settings.resolve_path(target.data_dir)),
            logs=SourceLogsClient.beside(client, f"{server.base_url}/logs/v1", target.organization_id),
        )
    client = coveo_client(settings, target)
    source_id = target.source_id or client.resolve_source(source_name)
    logs = SourceLogsClient.beside(client, endpoints.logs_base(target.region, target.base_url), target.organization_id)
    return OpenTarget(
        name, client, source_name, source_id, False, location=f"organization {target.organization_id}", logs=logs
    )


def _ensure_source(client: PushApiClient, name: str, mode: str, create: bool) -> str:
    for src in client.list_sources():
        if src.get("name") == name:
            return str(src["id"])
    if not create:
        raise TargetError(f"source {name!r} does not exist in the local Push API yet (run a crawl first)")
    return str(client.create_source(name, VISIBILITY.get(mode, "SECURED"))["id"])


@dataclass
class AdminTarget:
    """A client for Platform API work on a target (``sources create``), with what to close afterwards."""

    name: str
    client: PushApiClient
    is_local: bool
    location: str
    close: Callable[[], None]


def open_admin(settings: Settings, override: str | None = None) -> AdminTarget:
    name, target = settings.target_for(None, override)
    if isinstance(target, LocalTarget):
        server, client = start_local(settings, target)
        return AdminTarget(name, client, True, str(settings.resolve_path(target.data_dir)), server.stop)
    client = coveo_client(settings, target)
    return AdminTarget(name, client, False, f"organization {target.organization_id}", lambda: None)
