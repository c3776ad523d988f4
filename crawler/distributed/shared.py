"""The state a scaled-out run's workers share, in Redis, and its hand-over to and from the coordinator's SQLite.

The coordinator's state store (crawler.state, SQLite) stays the one record that outlives runs — fingerprints,
cursors, the full-run lineage, the history. At the run's start the coordinator *mirrors* into Redis what
workers must read (``mirror``): the fingerprints an unchanged item is compared with (whichever worker meets
it) and the identity fingerprints. Workers then write only to Redis (``SharedState``): each batch journalled
``pending`` before its first byte leaves, and its items' fingerprints recorded in the same MULTI/EXEC that marks
it ``acked`` — only after the 202, as in one process (DESIGN.md rule 2). At the run's end the coordinator
*merges* every acknowledged item into SQLite (``merge``) before the end-of-run steps read it, and counts any
batch still pending (a worker died while sending it: the run is not proven complete).

A coordinator killed before the merge loses only the record of acknowledgements, never an item: the next run
finds no fingerprint and pushes those items again (same content, newer orderingId) — the safe direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import redis

from crawler.distributed.keys import Keys
from crawler.state import StateStore

CHUNK = 5_000
_PENDING, _ACKED = "pending", "acked"


class SharedState(StateStore):
    """The part of StateStore a worker's pipelines use (changes, push, sink), over Redis.

    A subclass so that the Run stays typed as it is for one process; the other methods (history, cursors,
    sweeps) belong to the coordinator's end of the run and are never reached from a worker."""

    local_file = False  # Redis: no state file for the pipelines' caches (pipelines.langmemo)

    def __init__(self, client: redis.Redis, keys: Keys) -> None:  # no SQLite file: deliberately no super()
        self.path = Path("redis")
        self.client, self.keys = client, keys
        self._journal, self._acked, self._ident_acked = keys.run("journal"), keys.run("acked"), keys.run("idacked")

    def close(self) -> None:
        """The Redis client belongs to the worker, which closes it."""

    # ---- what ChangesPipeline reads ----
    def fingerprint(self, scope: str, document_id: str, acked_since: int | None = None) -> str | None:
        # the mirror already holds only what the run may compare with (see ``mirror``)
        value = self.client.hget(self.keys.fingerprints, document_id)
        return None if value is None else str(value)

    # ---- the journal, as pipelines.sink drives it ----
    def journal_open(self, batch_id: str, scope: str, run_id: int, items: int, size: int) -> None:
        self.client.hset(self._journal, batch_id, _PENDING)

    def journal_close(self, batch_id: str, status: str, detail: str = "") -> None:
        self.client.hset(self._journal, batch_id, status)

    def journal_ack(
        self, batch_id: str, scope: str, run_id: int, ordering_id: int, items: Iterable[tuple[str, str]]
    ) -> None:
        pipe = self.client.pipeline(transaction=True)  # MULTI/EXEC: fingerprints and "acked" together
        for doc_id, fp in items:
            pipe.hset(self._acked, doc_id, fp)
        pipe.hset(self._journal, batch_id, _ACKED)
        pipe.execute()

    # ---- identities ----
    def identity_states(self, scope: str, provider: str) -> dict[str, tuple[str, int]]:
        out: dict[str, tuple[str, int]] = {}
        for key, value in self.client.hscan_iter(self.keys.identity_states, count=CHUNK):
            fp, _, oid = str(value).partition(" ")
            out[str(key)] = (fp, int(oid or 0))
        return out

    def identities_ack(
        self,
        batch_id: str,
        scope: str,
        provider: str,
        run_id: int,
        ordering_id: int,
        identities: Iterable[tuple[str, str]],
    ) -> None:
        pipe = self.client.pipeline(transaction=True)
        for key, fp in identities:
            pipe.hset(self._ident_acked, key, fp or "-")  # "-": disabled
        pipe.hset(self._journal, batch_id, _ACKED)
        pipe.execute()


def mirror(client: redis.Redis, keys: Keys, state: StateStore, mode: str, sweep_from: int, provider: str) -> int:
    """Copy into Redis the fingerprints workers compare with; returns how many.

    Incremental runs compare with every acknowledged item; a full run that resumes a killed one only with what
    that lineage acknowledged (``acked_since``); a fresh full run pushes everything and needs none."""
    client.delete(keys.fingerprints, keys.identity_states)
    if mode == "incremental":
        items = state.fingerprints(keys.scope)
    elif sweep_from:
        items = state.acked_since(keys.scope, sweep_from)
    else:
        items = {}
    _put(client, keys.fingerprints, iter(items.items()))
    idents = {k: f"{fp} {oid}" for k, (fp, oid) in state.identity_states(keys.scope, provider).items()}
    _put(client, keys.identity_states, iter(idents.items()))
    return len(items)


def _put(client: redis.Redis, key: str, pairs: Iterator[tuple[str, str]]) -> None:
    for chunk in _chunks(pairs):
        pipe = client.pipeline(transaction=False)
        for field, value in chunk:
            pipe.hset(key, field, value)
        pipe.execute()


def merge(client: redis.Redis, keys: Keys, state: StateStore, ordering_id: int, provider: str) -> tuple[int, int]:
    """Commit every item and identity the workers' batches acknowledged into SQLite; returns (items, pending
    batches). Called once, by the coordinator, before the end-of-run steps."""
    merged = 0
    acked = ((str(k), str(v)) for k, v in client.hscan_iter(keys.run("acked"), count=CHUNK))
    for chunk in _chunks(acked):
        state.commit_items(keys.scope, keys.run_id, ordering_id, chunk)
        merged += len(chunk)
    idents = [(str(k), "" if v == "-" else str(v)) for k, v in client.hscan_iter(keys.run("idacked"), count=CHUNK)]
    if idents:
        state.identities_ack(f"run-{keys.run_id}", keys.scope, provider, keys.run_id, ordering_id, idents)
    pending = sum(1 for _, status in client.hscan_iter(keys.run("journal"), count=CHUNK) if status == _PENDING)
    return merged, pending


def _chunks(pairs: Iterator[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    chunk: list[tuple[str, str]] = []
    for pair in pairs:
        chunk.append(pair)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
