"""Push pipeline: pack mapped documents and identities into batches, send them off the reactor, count outcomes.

``process_item`` checks each document against the contract's limits (crawler.wire.limits: a counted drop
with a reason when it cannot be sent) and appends its entry to a batch spooled to a temporary file; the batch
is flushed before an entry would pass ``push.batch_max_bytes`` (unless set, 8 MiB for the embedded local
target: see ``batch_max_bytes``) or ``push.batch_max_items``. A document whose
compressed content is over the 5 MB inline limit goes alone, its content through its own file container.
Uploads run on a thread pool (pipelines.sink), at most ``push.max_in_flight`` at once; when that many
are in flight ``process_item`` awaits one — the backpressure that slows the crawl to the index's pace.

Identities before documents, by construction: identities are batched the same way, and a document batch is
submitted only after every identity batch before it was *answered* (``_identity_barrier``), so secured items
never reach the index ahead of the identities they reference, however slow the provider is. Groups other
pipelines make (``over_limit: collapse``) arrive by the ``identity_needed`` signal and join the next identity
batch. Deletions go to the run ledger for the end-of-run step, which applies them after the safety checks;
a failed batch leaves each of its items in the ledger with the reason.

A quota or auth refusal, or the error-rate breaker (``push.breaker_*``), stops the run: the spider closes,
nothing more is sent, unsent items keep no fingerprint and go out with the next run.

In ``--dry-run`` nothing is sent: each item's exact JSON is written (secrets redacted) and counted.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVarTuple

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler import defaults, secrets, signals
from crawler.context import Run, get_context
from crawler.dryrun import printable
from crawler.model import Deletion, Document, Identity
from crawler.wire import JsonObject
from crawler.wire import identity as wire_identity
from crawler.wire.batch import IDENTITY_SECTIONS, ITEM_SECTIONS, SpooledBatch
from crawler.wire.body import document_body
from crawler.wire.limits import Prepared, Rejected, prepare
from pipelines import drop
from pipelines.sink import Outcome, Sender

logger = logging.getLogger(__name__)
Args = TypeVarTuple("Args")  # a batch job's arguments, as the executor passes them to its function

#: content above this is checked and compressed on a worker thread, not on the reactor
_OFF_REACTOR_BYTES = 512 * 1024


def batch_max_bytes(run: Run) -> int:
    """The byte cap of a batch: ``push.batch_max_bytes``, or by default a lower one for the embedded local
    target, which applies each batch in this very process (crawler.defaults.LOCAL_BATCH_MAX_BYTES says why)."""
    push = run.settings.push
    target = run.settings.targets.get(run.target_name)
    if getattr(target, "kind", None) == "local" and "batch_max_bytes" not in push.model_fields_set:
        return min(push.batch_max_bytes, defaults.LOCAL_BATCH_MAX_BYTES)
    return push.batch_max_bytes


class PushPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        assert crawler.stats is not None  # Scrapy makes the stats collector before any pipeline
        self.stats: StatsCollector = crawler.stats
        self.ctx: Run = get_context(crawler)
        self.cfg = self.ctx.settings.push
        self.max_bytes = batch_max_bytes(self.ctx)
        self.items = SpooledBatch(ITEM_SECTIONS)
        self.idents = SpooledBatch(IDENTITY_SECTIONS)
        self.ident_keys: list[tuple[str, str]] = []  # (identity key, fingerprint) of the open identity batch
        self.inflight: set[asyncio.Future[Outcome]] = set()
        self.ident_inflight: set[asyncio.Future[Outcome]] = set()
        self.recent: deque[bool] = deque(maxlen=self.cfg.breaker_window)  # True = the batch failed
        self.executor: ThreadPoolExecutor | None = None
        self.sender = None if self.ctx.dry_run else Sender(self.ctx)
        # what the provider acknowledged before: unchanged identities are not sent again (see _identity)
        self.ident_known = self.ctx.state.identity_states(self.ctx.scope, self.ctx.provider_id)
        self.ident_sent: dict[str, str] = {}
        self.made_identities: list[Identity] = []  # from other pipelines (identity_needed), sent before documents
        self._closing: asyncio.Future[None] | None = None  # kept so the task is not garbage-collected

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PushPipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.identity_needed, signal=signals.identity_needed)
        return pipeline

    def identity_needed(self, identity: Identity) -> None:
        self.made_identities.append(identity)

    def open_spider(self) -> None:
        self.executor = ThreadPoolExecutor(self.cfg.max_in_flight, thread_name_prefix="push")

    # Any: Scrapy hands a pipeline whatever the spider yielded, and passes on what it returns
    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Deletion):
            self.ctx.ledger.add_deletion(item)
        elif isinstance(item, Identity):
            await self._identity(item)
        elif isinstance(item, Document):
            await self._document(item)
        return item

    async def _document(self, item: Document) -> None:
        while self.made_identities:  # groups the permissions pipeline made (over_limit: collapse) go first
            await self._identity(self.made_identities.pop(0))
        if self.ctx.fatal:
            # not a drop: the item keeps no fingerprint and goes out with the next run
            self.stats.inc_value("pushcrawl/unsent")
            raise DropItem(f"not sent, the run is stopping: {item.document_id}", log_level="DEBUG")
        if self.ctx.dry_run:
            self._dry_run(document_body(item), "pushcrawl/would_push", item)
            return
        try:
            if item.content_size() > _OFF_REACTOR_BYTES:
                prepared = await asyncio.to_thread(prepare, item, self.cfg.container_max_bytes)
            else:
                prepared = prepare(item, self.cfg.container_max_bytes)
        except Rejected as exc:
            raise drop(self.crawler, exc.reason, str(exc)) from None
        self.stats.inc_value("pushcrawl/queued")  # the progress line's "queued" (acknowledged comes later)
        if len(self.idents):
            await self._flush_identities()
        assert self.sender is not None  # not a dry run
        if prepared.encoded is None:
            await self._submit_documents(self.sender.send_large, prepared)
            return
        fits = (
            self.items.size + self.items.cost(prepared.encoded) <= self.max_bytes
            and len(self.items) < self.cfg.batch_max_items
        )
        if len(self.items) and not fits:
            await self._flush_items()
        # an entry larger than the byte bound goes alone in its own batch
        self.items.add(prepared.encoded, (prepared.document_id, prepared.fingerprint))
        if len(self.items) >= self.cfg.batch_max_items or self.items.size >= self.max_bytes:
            await self._flush_items()

    async def _identity(self, item: Identity) -> None:
        self.stats.inc_value("pushcrawl/identities")
        if self.ctx.fatal:
            return
        entries = wire_identity.entries(item)
        ident_key, fp = wire_identity.key(item), wire_identity.fingerprint(item, entries)
        if fp and self.ident_sent.get(ident_key) == fp:
            return  # sent this run already (a connector may meet the same group on every page)
        self.ctx.ledger.identity_seen(ident_key)
        self.ident_sent[ident_key] = fp
        if not self.ctx.ledger.claim_identity(ident_key, fp):
            self.stats.inc_value("pushcrawl/identities_sent_by_another_worker")
            return  # a run spread over workers: another worker of this run sends this very version
        known = self.ident_known.get(ident_key)
        # a full run sends everything its sweep must keep: skip only what this full reindex already sent
        floor = self.ctx.sweep_from if self.ctx.mode == "full" else 0
        if fp and known is not None and known[0] == fp and known[1] >= floor:
            self.stats.inc_value("pushcrawl/identities_unchanged")
            return
        if self.ctx.dry_run:
            for section, entry in entries:
                self._dry_run({section: json.loads(entry)}, "pushcrawl/would_push_identities")
            return
        cost = sum(self.idents.cost(e, s) for s, e in entries)
        if len(self.idents) and self.idents.size + cost > self.max_bytes:
            await self._flush_identities()
        for section, entry in entries:
            self.idents.add(entry, section=section)
        self.ident_keys.append((ident_key, fp))
        if len(self.ident_keys) >= self.cfg.batch_max_items or self.idents.size >= self.max_bytes:
            await self._flush_identities()

    def _dry_run(self, body: JsonObject, stat: str, item: Document | None = None) -> None:
        """Write the exact JSON that would be pushed (secrets redacted), then ``#`` lines: mapping notes and
        metadata collected without a declared field. Filter the ``#`` lines to get a stream of JSON bodies."""
        self.stats.inc_value(stat)
        out = self.ctx.dry_run_out
        if out is None:
            return
        out.write(json.dumps(secrets.redact_obj(printable(body)), ensure_ascii=False, indent=2) + "\n")
        if item is not None and item.collected_only:
            out.write(f"# collected, not indexed (no declared field): {', '.join(item.collected_only)}\n")
        for note in item.notes if item is not None else []:
            out.write(secrets.redact(f"# note: {note}") + "\n")

    async def _flush_items(self) -> None:
        batch, self.items = self.items, SpooledBatch(ITEM_SECTIONS)
        if not len(batch) or self.sender is None:
            batch.close()
            return
        await self._submit_documents(self.sender.send_items, batch)

    async def _flush_identities(self) -> None:
        batch, keys = self.idents, self.ident_keys
        self.idents, self.ident_keys = SpooledBatch(IDENTITY_SECTIONS), []
        if not len(batch) or self.sender is None:
            batch.close()
            return
        future = await self._submit(self.sender.send_identities, batch, keys)
        if future is not None:
            self.ident_inflight.add(future)
            future.add_done_callback(self.ident_inflight.discard)

    async def _identity_barrier(self) -> None:
        """Wait until every identity batch submitted so far was answered: the order identities → documents."""
        if self.ident_inflight:
            await asyncio.wait(set(self.ident_inflight))

    async def _submit_documents(self, fn: Callable[[*Args], Outcome], *args: *Args) -> None:
        # the only way a document batch reaches the executor: behind the identity barrier
        await self._identity_barrier()
        await self._submit(fn, *args)

    async def _submit(self, fn: Callable[[*Args], Outcome], *args: *Args) -> asyncio.Future[Outcome] | None:
        while len(self.inflight) >= self.cfg.max_in_flight:
            await asyncio.wait(self.inflight, return_when=asyncio.FIRST_COMPLETED)
        if self.ctx.fatal or self.executor is None:  # checked after the waits: the run may have stopped meanwhile
            self._discard(args)
            return None
        future = asyncio.wrap_future(self.executor.submit(fn, *args))
        self.inflight.add(future)
        future.add_done_callback(self._done)
        return future

    def _discard(self, args: tuple[object, ...]) -> None:
        for arg in args:
            if isinstance(arg, SpooledBatch):
                self.stats.inc_value("pushcrawl/unsent", len(arg.keys))
                arg.close()
            elif isinstance(arg, Prepared) and arg.content_file is not None:
                self.stats.inc_value("pushcrawl/unsent")
                arg.content_file.close()

    def _done(self, future: asyncio.Future[Outcome]) -> None:
        # runs on the event loop (reactor) thread: safe to touch Scrapy's stats and engine
        self.inflight.discard(future)
        stats = self.stats
        if future.cancelled():
            return
        if (exc := future.exception()) is not None:
            logger.error("push worker crashed", exc_info=exc)
            stats.inc_value("pushcrawl/errors")
            self.ctx.ledger.record_error("(push worker)", f"crashed: {type(exc).__name__}: {exc}")
            self._stop("a push worker crashed (see the traceback above)")
            return
        out = future.result()
        if out.kind == "identities":
            stats.inc_value("pushcrawl/identity_batches")
            stats.inc_value("pushcrawl/identities_pushed", out.ok)
        else:
            stats.inc_value("pushcrawl/batches")
            stats.inc_value("pushcrawl/pushed", out.ok)
        if out.failed:
            stats.inc_value("pushcrawl/errors", out.failed)
            for failed_id in out.ids:  # named failures: each item of the failed batch, with the reason
                self.ctx.ledger.record_error(failed_id, f"{out.kind} batch failed: {out.error}")
        if out.fatal:
            self._stop(out.fatal)
            return
        self.recent.append(bool(out.failed))
        failures = sum(self.recent)
        if failures >= self.cfg.breaker_min_failures and failures / len(self.recent) >= self.cfg.breaker_error_ratio:
            self._stop(f"error-rate breaker: {failures} of the last {len(self.recent)} batches failed after retries")

    def _stop(self, why: str) -> None:
        if not self.ctx.ledger.stop(why):
            return
        logger.error("stopping the run: %s (unsent items are kept for the next run)", why)
        assert self.crawler.engine is not None  # items flow only while the engine runs
        self._closing = asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="push_refused"))

    async def close_spider(self) -> None:
        while self.made_identities:
            await self._identity(self.made_identities.pop(0))
        await self._flush_identities()
        await self._flush_items()
        if self.inflight:
            await asyncio.wait(set(self.inflight))
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        self.items.close()
        self.idents.close()
