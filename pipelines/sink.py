"""The push sink's worker-thread side: send one batch, journal it, commit it on acceptance.

The HTTP client (crawler.pushapi) knows nothing of runs; this module is where a batch meets the run: its
journal entry, the fingerprints its acknowledgement commits, the named failure it leaves in the run ledger.

Data-safety rule 2: a batch is journalled ``pending`` before its first byte leaves, and its items'
fingerprints are written in the same transaction that marks it ``acked`` — only after the Push API accepted
the apply call (202). A run killed at any point leaves its unacknowledged items without a new fingerprint,
so the next run pushes exactly those again; the ones acknowledged are skipped as unchanged. (The one window
left — killed between the 202 and that commit — re-sends a batch the index already has, which is harmless:
same content, newer orderingId.)

Each batch logs one line: kind, items, bytes, latency, outcome.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from crawler.context import Run
from crawler.errors import PushError, QuotaExceeded, TargetError
from crawler.pushapi.client import PushApiClient
from crawler.wire.batch import ITEM_SECTIONS, SpooledBatch
from crawler.wire.limits import Prepared, with_file_id

logger = logging.getLogger("crawler.pushapi.batches")


@dataclass
class Outcome:
    kind: str  # "items" | "identities"
    ok: int = 0
    failed: int = 0
    fatal: str | None = None  # the run must stop (quota, auth): recorded in the run ledger by the pipeline
    error: str = ""  # why the batch failed, for the ledger's named failures
    ids: tuple[str, ...] = ()  # what a failed batch carried


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 100_000 else f"{size:,} B"


class Sender:
    """Sends batches for one run (client, state, scope, run id, ordering id all come from the Run)."""

    def __init__(self, run: Run) -> None:
        if run.client is None or run.source_id is None:
            raise ValueError("a dry run has no sink")
        self.ctx = run
        self.client: PushApiClient = run.client
        self.source_id: str = run.source_id

    def _run(
        self,
        kind: str,
        keys: list[tuple[str, str]],
        size: int,
        send: Callable[[], object],  # the client call; its return value (a fileId) is not needed
        ack: Callable[[str], None] | None = None,
    ) -> Outcome:
        ctx = self.ctx
        batch_id = uuid.uuid4().hex
        count = len(keys)
        ctx.state.journal_open(batch_id, ctx.scope, ctx.run_id, len(keys), size)
        started = time.monotonic()

        def log(level: int, outcome: str, *extra: object) -> None:
            # one line per batch: items, bytes, latency, outcome
            line = "%s batch %s: %d %s, %s, %.2fs, " + outcome
            logger.log(level, line, kind, batch_id[:8], count, kind, _mb(size), time.monotonic() - started, *extra)

        try:
            send()
        except (QuotaExceeded, TargetError) as exc:
            ctx.state.journal_close(batch_id, "failed", str(exc))
            log(logging.ERROR, "refused — stopping the run: %s", exc)
            return Outcome(kind, 0, len(keys), str(exc), str(exc), tuple(k for k, _ in keys))
        except PushError as exc:
            ctx.state.journal_close(batch_id, "failed", str(exc))
            log(logging.ERROR, "failed (kept for the next run): %s", exc)
            return Outcome(kind, 0, len(keys), None, str(exc), tuple(k for k, _ in keys))
        if ack is not None:
            ack(batch_id)
        else:
            ctx.state.journal_ack(batch_id, ctx.scope, ctx.run_id, ctx.ordering_id, keys)
        log(logging.INFO, "accepted")
        return Outcome(kind, len(keys))

    def send_items(self, batch: SpooledBatch) -> Outcome:
        """Upload a spooled item batch and apply it to the source."""
        payload = batch.seal()
        try:
            send = lambda: self.client.upload_batch(self.source_id, payload, self.ctx.ordering_id)  # noqa: E731
            return self._run("items", batch.keys, batch.size, send)
        finally:
            batch.close()

    def send_large(self, item: Prepared) -> Outcome:
        """An item whose compressed content exceeds the inline limit: content in its own container first."""
        ctx = self.ctx
        content: IO[bytes] | None = item.content_file
        assert content is not None

        def send() -> None:
            file_id = self.client.upload_to_container(content, f"content of {item.document_id}")
            batch = SpooledBatch(ITEM_SECTIONS)
            try:
                batch.add(with_file_id(item, file_id))
                self.client.upload_batch(self.source_id, batch.seal(), ctx.ordering_id)
            finally:
                batch.close()

        try:
            return self._run("items", [(item.document_id, item.fingerprint)], item.content_size, send)
        finally:
            content.close()

    def send_identities(self, batch: SpooledBatch, keys: list[tuple[str, str]]) -> Outcome:
        """Upload a BatchIdentityBody and apply it to the source's security identity provider; on acceptance
        record the (identity key, fingerprint) pairs."""
        ctx = self.ctx
        provider = ctx.provider_id
        payload = batch.seal()

        def ack(batch_id: str) -> None:
            ctx.state.identities_ack(batch_id, ctx.scope, provider, ctx.run_id, ctx.ordering_id, keys)

        try:
            return self._run(
                "identities",
                keys,
                batch.size,
                lambda: self.client.upload_identity_batch(provider, payload, ctx.ordering_id),
                ack,
            )
        finally:
            batch.close()
