"""RunLedger over Redis: the facts of one run written by every worker, read once by the coordinator.

Why Redis structures (and not a SQL server): the frontier of a scaled-out run already lives in Redis
(scrapy-redis), so the run's facts beside it add no server to install, secure and reach from each machine;
and each fact is one atomic command — ``SADD`` answers "new to the run?" for ``mark_seen`` across every
worker at once, ``RPUSH`` appends a named failure, ``SET NX`` records the first fatal reason — so concurrent
writers need no transaction and no lock. What must outlive the run (fingerprints, cursors, the history) is
still committed to the coordinator's SQLite state by the end-of-run steps (crawler.distributed.shared).

Keys (under ``pushcrawl:{scope}:run:{id}:``): ``seen``, ``identities`` and ``identity_claims`` (sets),
``events`` (a list of JSON ``[kind, id, reason, flag]``), ``fatal`` (a string). Counts are read from Redis,
so ``count(ERROR)`` is the run's, not one worker's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import redis

from crawler.distributed.keys import Keys
from crawler.ledger import DELETION, DROPPED, ERROR, FATAL, LISTING, Failure
from crawler.model import Deletion

#: ids read per SSCAN call: a 10-million-id set is walked without one huge reply
SCAN_COUNT = 10_000


class RedisLedger:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self.run_id = keys.run_id
        self._seen, self._idents = keys.run("seen"), keys.run("identities")
        self._claims = keys.run("identity_claims")
        self._events, self._fatal = keys.run("events"), keys.run("fatal")
        self._counts = keys.run("counts")

    # ---- seen ids ----
    def mark_seen(self, item_id: str) -> bool:
        return bool(self.client.sadd(self._seen, item_id))

    def was_seen(self, item_id: str) -> bool:
        return bool(self.client.sismember(self._seen, item_id))

    def seen_ids(self) -> Iterator[str]:
        return (str(i) for i in self.client.sscan_iter(self._seen, count=SCAN_COUNT))

    # ---- events ----
    def _event(self, kind: str, item_id: str, reason: str, flag: int = 0) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(self._events, json.dumps([kind, item_id, reason, flag]))
        pipe.hincrby(self._counts, kind, 1)
        pipe.execute()

    def record_error(self, item_id: str, reason: str) -> None:
        self._event(ERROR, item_id, reason)

    def listing_failed(self, where: str, reason: str) -> None:
        self._event(LISTING, where, reason)

    def record_drop(self, item_id: str, reason: str) -> None:
        self._event(DROPPED, item_id, reason)

    def add_deletion(self, deletion: Deletion) -> None:
        self._event(DELETION, deletion.document_id, deletion.reason, int(deletion.delete_children))

    def deletions(self) -> Iterator[Deletion]:
        for kind, item_id, reason, flag in self._all():
            if kind == DELETION:
                yield Deletion(document_id=item_id, reason=reason, delete_children=bool(flag))

    def stop(self, reason: str) -> bool:
        if not self.client.set(self._fatal, reason, nx=True):
            return False
        self._event(FATAL, "", reason)
        return True

    @property
    def fatal(self) -> str | None:
        value = self.client.get(self._fatal)
        return None if value is None else str(value)

    def failures(self, limit: int | None = None) -> list[Failure]:
        out = [Failure(kind, item_id, reason) for kind, item_id, reason, _ in self._all() if kind != DELETION]
        return out if limit is None else out[:limit]

    def count(self, kind: str) -> int:
        return int(self.client.hget(self._counts, kind) or 0)

    # ---- identities ----
    def identity_seen(self, key: str) -> None:
        self.client.sadd(self._idents, key)

    def claim_identity(self, key: str, fingerprint: str) -> bool:
        # SADD answers "new to the run?" atomically across workers: exactly one of them pushes this version
        return bool(self.client.sadd(self._claims, f"{fingerprint} {key}"))

    def identities_seen(self) -> set[str]:
        return {str(k) for k in self.client.sscan_iter(self._idents, count=SCAN_COUNT)}

    # ---- storage ----
    def _all(self) -> Iterator[tuple[str, str, str, int]]:
        start = 0
        while True:
            chunk = self.client.lrange(self._events, start, start + SCAN_COUNT - 1)
            for raw in chunk:
                kind, item_id, reason, flag = json.loads(raw)
                yield str(kind), str(item_id), str(reason), int(flag)
            if len(chunk) < SCAN_COUNT:
                return
            start += SCAN_COUNT

    def flush(self) -> None:
        """Every fact is written when it happens: nothing is buffered in a worker that could die with it."""

    def prune(self, keep_run_ids: set[int]) -> int:
        """A run's keys are dropped by the coordinator when the run ends (crawler.distributed.coordinator)."""
        return 0

    def close(self) -> None:
        """The client is the coordinator's or worker's; it closes it."""
