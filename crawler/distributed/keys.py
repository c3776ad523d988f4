"""Redis key names of a scaled-out run, the connection (clear errors, password redacted) and the shared lock.

Every key of a site lives under ``pushcrawl:{scope}:`` and every key of one run under
``pushcrawl:{scope}:run:{run_id}:``, so the scrapy-redis frontier and dupefilter are keyed by run (a new run
never inherits the last one's "already seen" set) and the coordinator can drop a finished run's keys at once.

The scope lock is a plain ``SET key value NX PX ttl`` refreshed by its holder: the coordinator's machine
may die, and then the lock lapses after ``ttl`` instead of blocking the site for ever; a holder refreshes it
only while the value is still its own token (a compare-and-set in one Lua call).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from dataclasses import dataclass

import redis

from crawler import secrets
from crawler.distributed.config import DistributedConfig
from crawler.errors import PushcrawlError
from crawler.runlock import LOCKED_EXIT


class RedisUnavailable(PushcrawlError):
    """The Redis server of a distributed run cannot be reached (or refused the password)."""


class SharedLocked(PushcrawlError):
    """Another coordinator, maybe on another machine, runs this site now."""

    exit_code = LOCKED_EXIT


@dataclass(frozen=True)
class Keys:
    scope: str
    run_id: int = 0

    @property
    def site(self) -> str:
        return f"pushcrawl:{self.scope}"

    @property
    def lock(self) -> str:
        return f"{self.site}:lock"

    @property
    def current(self) -> str:
        """The run id workers join (absent: no run is current)."""
        return f"{self.site}:current"

    @property
    def fingerprints(self) -> str:
        """document id → "fingerprint ordering_id", mirrored from the coordinator's state at the run's start."""
        return f"{self.site}:fingerprints"

    @property
    def identity_states(self) -> str:
        return f"{self.site}:identities"

    def run(self, name: str) -> str:
        return f"{self.site}:run:{self.run_id}:{name}"

    def worker(self, name: str, worker_id: str) -> str:
        return f"{self.site}:run:{self.run_id}:{name}:{worker_id}"

    @property
    def run_prefix(self) -> str:
        return f"{self.site}:run:{self.run_id}:"

    @property
    def queue(self) -> str:
        # scrapy-redis formats its key settings with %(spider)s: a literal % in a scope must be doubled
        return self.run("requests").replace("%", "%%")

    @property
    def dupefilter(self) -> str:
        return self.run("dupefilter").replace("%", "%%")


def connect(config: DistributedConfig) -> redis.Redis:
    """A client for the run's Redis, checked with a PING: a clear error naming the URL (never the password)."""
    password = config.password.get_secret_value() if config.password else None
    secrets.register(password)
    client = redis.Redis.from_url(
        config.redis_url, password=password, socket_timeout=10, socket_connect_timeout=5, decode_responses=True
    )
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        raise RedisUnavailable(
            f"Redis at {config.redis_url} refused the password (distributed.password): {exc}"
        ) from None
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"cannot reach Redis at {config.redis_url} (distributed.redis_url): {secrets.redact(str(exc))}; "
            "nothing was pushed"
        ) from None
    return client


_REFRESH = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class SharedLock:
    """The site's run lock in Redis: one coordinator per scope across every machine that shares the Redis."""

    def __init__(self, client: redis.Redis, keys: Keys, holder: str, ttl_s: float) -> None:
        self.client, self.key, self.holder = client, keys.lock, holder
        self.token = f"{holder} {uuid.uuid4().hex}"
        self.ttl_ms = max(1000, int(ttl_s * 1000))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> None:
        if not self.client.set(self.key, self.token, nx=True, px=self.ttl_ms):
            other = self.client.get(self.key) or "a holder that just left"
            raise SharedLocked(
                f"another coordinator runs {self.key.removeprefix('pushcrawl:').removesuffix(':lock')} "
                f"({str(other).rsplit(' ', 1)[0]}); it was not started twice. Wait for it to end, or stop it first."
            )
        self._thread = threading.Thread(target=self._refresh, name="pushcrawl-shared-lock", daemon=True)
        self._thread.start()

    def _refresh(self) -> None:
        while not self._stop.wait(self.ttl_ms / 3000):
            # Redis lost: the coordinator's wait loop sees it and fails the run
            with contextlib.suppress(redis.RedisError):
                self.client.eval(_REFRESH, 1, self.key, self.token, self.ttl_ms)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(redis.RedisError):  # else it lapses by itself after its TTL
            self.client.eval(_RELEASE, 1, self.key, self.token)
