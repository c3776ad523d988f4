"""Push pipeline: buffer mapped documents, flush them as Push API batches on worker threads, record acks.

``process_item`` only serialises and appends to a buffer bounded by item count and bytes; a batch is flushed
before an item would pass either bound. Uploads run on a thread pool (never on the reactor thread), at most
``push.max_in_flight`` at once; when that many are in flight ``process_item`` awaits one, which is the
backpressure that slows the crawl down to the index's pace. Fingerprints are committed to the state store
only after the batch that carried them was accepted (data-safety rule 2).

Deletions and identities are collected on the run context: the end-of-run step applies deletions after the
safety checks, and pushes identities.

In ``--dry-run`` nothing is sent: each item's exact JSON is written (secrets redacted) and counted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from crawler import secrets
from crawler.context import RunContext, get_context
from crawler.errors import PushError, QuotaExceeded, TargetError
from crawler.model import Deletion, Document, Identity
from crawler.pushapi.body import document_body
from pipelines import drop

logger = logging.getLogger(__name__)

MAX_CONTAINER_BYTES = 256 * 1024 * 1024  # a file container's limit, CONTRACT.md §6
_ENVELOPE = len(b'{"addOrUpdate":[],"delete":[]}')


class _Batch:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.ids: list[tuple[str, str]] = []  # (document_id, fingerprint)
        self.size = _ENVELOPE

    def add(self, doc_id: str, fp: str, data: bytes) -> None:
        self.parts.append(data)
        self.ids.append((doc_id, fp))
        self.size += len(data) + 1

    def payload(self) -> bytes:
        return b'{"addOrUpdate":[' + b",".join(self.parts) + b'],"delete":[]}'


class PushPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.ctx: RunContext = get_context(crawler)
        cfg = self.ctx.settings.push
        self.max_bytes = cfg.batch_max_bytes
        self.max_items = cfg.batch_max_items
        self.max_in_flight = cfg.max_in_flight
        self.batch = _Batch()
        self.inflight: set[asyncio.Future[tuple[int, int, str | None]]] = set()
        self.executor: ThreadPoolExecutor | None = None
        self._closing: asyncio.Future[None] | None = None  # kept so the task is not garbage-collected

    @classmethod
    def from_crawler(cls, crawler: Any) -> PushPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.executor = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="push")

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Deletion):
            self.ctx.deletions.append(item)
            return item
        if isinstance(item, Identity):
            self.ctx.identities.append(item)
            return item
        if not isinstance(item, Document):
            return item
        if self.ctx.fatal:
            raise drop(self.crawler, "push_stopped", f"{item.document_id}: {self.ctx.fatal}", "DEBUG")
        body = document_body(item)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if self.ctx.dry_run:
            self._dry_run(body, item)
            return item
        if len(data) + _ENVELOPE > MAX_CONTAINER_BYTES:
            raise drop(
                self.crawler,
                "too_large",
                f"{item.document_id}: {len(data)} bytes, over the 256 MB container limit",
            )
        fits = self.batch.size + len(data) + 1 <= self.max_bytes and len(self.batch.ids) < self.max_items
        if self.batch.ids and not fits:
            await self._flush()
        # an item larger than the byte bound goes alone in its own batch
        self.batch.add(item.document_id, item.fingerprint or "", data)
        if len(self.batch.ids) >= self.max_items or self.batch.size >= self.max_bytes:
            await self._flush()
        return item

    def _dry_run(self, body: dict[str, Any], item: Document) -> None:
        """Write the exact JSON that would be pushed (secrets redacted), then ``#`` lines: mapping notes and
        metadata collected without a declared field. Filter the ``#`` lines to get a stream of JSON bodies."""
        self.crawler.stats.inc_value("pushcrawl/would_push")
        out = self.ctx.dry_run_out
        if out is None:
            return
        out.write(json.dumps(secrets.redact_obj(body), ensure_ascii=False, indent=2) + "\n")
        if item.collected_only:
            out.write(f"# collected, not indexed (no declared field): {', '.join(item.collected_only)}\n")
        for note in item.notes:
            out.write(secrets.redact(f"# note: {note}") + "\n")

    async def _flush(self) -> None:
        batch, self.batch = self.batch, _Batch()
        if not batch.ids or self.executor is None:
            return
        while len(self.inflight) >= self.max_in_flight:
            await asyncio.wait(self.inflight, return_when=asyncio.FIRST_COMPLETED)
        future = asyncio.wrap_future(self.executor.submit(self._send, batch))
        self.inflight.add(future)
        future.add_done_callback(self._done)

    def _send(self, batch: _Batch) -> tuple[int, int, str | None]:
        """Worker thread: upload one batch, commit its items on acceptance. Returns (ok, failed, fatal)."""
        ctx = self.ctx
        assert ctx.client is not None and ctx.source_id is not None
        batch_id = uuid.uuid4().hex
        payload = batch.payload()
        ctx.state.journal_open(batch_id, ctx.scope, ctx.run_id, len(batch.ids), len(payload))
        started = time.monotonic()
        try:
            ctx.client.upload_batch(ctx.source_id, payload, ctx.ordering_id)
        except (QuotaExceeded, TargetError) as exc:
            ctx.state.journal_close(batch_id, "failed", str(exc))
            logger.error("batch %s refused, stopping the run: %s", batch_id[:8], exc)
            return 0, len(batch.ids), str(exc)
        except PushError as exc:
            ctx.state.journal_close(batch_id, "failed", str(exc))
            logger.error("batch %s failed (%d items kept for the next run): %s", batch_id[:8], len(batch.ids), exc)
            return 0, len(batch.ids), None
        ctx.state.commit_items(ctx.scope, ctx.run_id, ctx.ordering_id, batch.ids)
        ctx.state.journal_close(batch_id, "acked")
        logger.info(
            "batch %s: %d items, %d bytes, %.2fs, accepted",
            batch_id[:8],
            len(batch.ids),
            len(payload),
            time.monotonic() - started,
        )
        return len(batch.ids), 0, None

    def _done(self, future: asyncio.Future[tuple[int, int, str | None]]) -> None:
        # runs on the event loop (reactor) thread: safe to touch Scrapy's stats and engine
        self.inflight.discard(future)
        stats = self.crawler.stats
        if future.cancelled():
            return
        if (exc := future.exception()) is not None:
            logger.error("push worker crashed", exc_info=exc)
            stats.inc_value("pushcrawl/errors")
            return
        ok, failed, fatal = future.result()
        stats.inc_value("pushcrawl/batches")
        stats.inc_value("pushcrawl/pushed", ok)
        if failed:
            stats.inc_value("pushcrawl/errors", failed)
        if fatal and not self.ctx.fatal:
            self.ctx.fatal = fatal
            self._closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="push_refused"))

    async def close_spider(self) -> None:
        await self._flush()
        if self.inflight:
            await asyncio.wait(set(self.inflight))
        if self.executor is not None:
            self.executor.shutdown(wait=True)
