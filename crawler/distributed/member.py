"""A worker's part in the run, as a Scrapy extension and a spider middleware.

``Member`` (extension):
- keeps the spider open while the run is not done (``DontCloseSpider`` on ``spider_idle``): an empty frontier
  now is not the end while another worker may still add to it;
- every ``heartbeat_s``, on the reactor: writes the worker's status (idle only after a whole beat of an idle
  engine with no pop, see crawler.distributed.frontier) and its counts (``pushcrawl runs``, the progress line),
  and closes the spider ``finished`` once the coordinator has declared the crawl done;
- loses Redis → closes the spider with reason ``redis_lost``: the run is not proven complete, nothing is
  swept (the coordinator fails the run too, as it cannot reach Redis either); finds the coordinator's lock
  lapsed (it died) → closes with ``coordinator_lost`` instead of waiting for a ``done`` that never comes.

``SeedOnce`` (spider middleware): the connector's start requests enter the frontier once per run, from the
first worker to claim ``seed`` (a ``SET NX``); the others start with an empty ``start()``. The start code runs
inside a real crawler — connectors read their settings, stats and signals there — which is why the seed is a
worker's job and not the coordinator's. ``seeded`` is set once the start iterator is exhausted, and the
coordinator never calls the crawl done before that.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import redis
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.distributed.frontier import DONE, IDLE, STATUS_KEY, WORKER_ID, RunScheduler

logger = logging.getLogger(__name__)

#: Scrapy settings of a worker's crawler: the run's key prefix and the beat
RUN_PREFIX, HEARTBEAT, LOCK_KEY = "PUSHCRAWL_RUN_PREFIX", "PUSHCRAWL_HEARTBEAT_S", "PUSHCRAWL_LOCK_KEY"
PROGRESS_KEYS = (
    "pushcrawl/documents",
    "pushcrawl/pushed",
    "pushcrawl/unchanged",
    "pushcrawl/errors",
    "downloader/response_count",
)


def client_from(crawler: Crawler) -> redis.Redis:
    params = dict(crawler.settings.getdict("REDIS_PARAMS"))
    return redis.Redis.from_url(crawler.settings["REDIS_URL"], decode_responses=True, socket_timeout=10, **params)


class Member:
    def __init__(self, crawler: Crawler) -> None:
        prefix = crawler.settings.get(RUN_PREFIX)
        if not prefix:
            raise NotConfigured("not a worker of a distributed run")
        self.crawler = crawler
        self.prefix = str(prefix)
        self.worker_id = str(crawler.settings[WORKER_ID])
        self.status_key = str(crawler.settings[STATUS_KEY])
        self.beat_s = crawler.settings.getfloat(HEARTBEAT, 1.0)
        self.lock_key = str(crawler.settings[LOCK_KEY])
        self.client = client_from(crawler)
        self.loop: task.LoopingCall | None = None
        self.idle_beats = 0
        self.last_pops = -1
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Member:
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Spider) -> None:
        self.loop = task.LoopingCall(self.beat)
        self.loop.start(self.beat_s, now=False)

    def idle(self, spider: Spider) -> None:
        if not self.closing:
            raise DontCloseSpider  # the run decides when the crawl ends, not this worker's empty moment

    def closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def beat(self) -> None:
        if self.closing:
            return
        try:
            self._beat()
        except redis.RedisError as exc:
            logger.error("lost Redis (%s): this worker stops, the run cannot be proven complete", exc)
            self._close("redis_lost")

    def _beat(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        scheduler = getattr(slot, "scheduler", None)
        pops = scheduler.pops if isinstance(scheduler, RunScheduler) else 0
        if isinstance(scheduler, RunScheduler) and len(scheduler.queue):
            # another worker filled the frontier: ask the engine for requests now, not at its next 5 s beat
            nextcall = getattr(slot, "nextcall", None)
            if nextcall is not None:
                nextcall.schedule()
        quiet = engine is not None and engine.spider_is_idle() and pops == self.last_pops
        self.idle_beats = self.idle_beats + 1 if quiet else 0
        self.last_pops = pops
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(
            self.prefix + "progress", self.worker_id, json.dumps({k: int(stats.get(k, 0)) for k in PROGRESS_KEYS})
        )
        if self.idle_beats >= 1:
            # the status is set to busy by the scheduler itself, before each pop
            pipe.hset(self.status_key, self.worker_id, IDLE)
        pipe.exists(self.lock_key)
        pipe.get(self.prefix + "done")
        coordinator, done = pipe.execute()[-2:]
        if not coordinator:  # its lock lapsed: the coordinator died, nobody will end this run
            logger.error("the run's coordinator is gone (its lock in Redis lapsed): this worker stops")
            self._close("coordinator_lost")
        elif done and self.idle_beats >= 1:
            self._close("finished")

    def _close(self, reason: str) -> None:
        self.closing = True
        if self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def set_done(self) -> None:
        with contextlib.suppress(redis.RedisError):
            self.client.hset(self.status_key, self.worker_id, DONE)


class SeedOnce:
    def __init__(self, crawler: Crawler) -> None:
        prefix = crawler.settings.get(RUN_PREFIX)
        if not prefix:
            raise NotConfigured("not a worker of a distributed run")
        self.prefix = str(prefix)
        self.worker_id = str(crawler.settings[WORKER_ID])
        self.client = client_from(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedOnce:
        return cls(crawler)

    # Any: whatever the connector's start() yields (requests and items)
    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        if not self.client.set(self.prefix + "seed", self.worker_id, nx=True):
            return
        logger.info("worker %s seeds the frontier with the connector's start requests", self.worker_id)
        async for item_or_request in start:
            yield item_or_request
        self.client.set(self.prefix + "seeded", self.worker_id)
