"""The scrapy-redis scheduler of a worker, marking the worker busy in Redis *before* it pops a request.

The coordinator declares the crawl done when, in one atomic snapshot, the frontier is empty and every living
worker is idle. That is sound only if a request is never in neither place: popped from the queue but held by
a worker whose status still says idle. So the status is written before the pop, and the worker returns to
idle only from its heartbeat, once its engine has been idle for a whole beat with no pop in between
(crawler.distributed.member).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy_redis.scheduler import Scheduler

#: Scrapy settings a worker's crawler carries (set by crawler.distributed.worker)
WORKER_ID, STATUS_KEY = "PUSHCRAWL_WORKER_ID", "PUSHCRAWL_STATUS_KEY"
BUSY, IDLE, DONE = "busy", "idle", "done"


class RunScheduler(Scheduler):  # type: ignore[misc]  # scrapy-redis ships no type information (an untyped base)
    pops = 0  # requests popped so far: the heartbeat's "no pop during the last beat"

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunScheduler:
        instance: RunScheduler = super().from_crawler(crawler)
        instance.worker_id = crawler.settings.get(WORKER_ID)
        instance.status_key = crawler.settings.get(STATUS_KEY)
        return instance

    # Any: a scrapy.Request or None, as scrapy-redis returns it
    def next_request(self) -> Any:
        if not len(self.queue):  # one ZCARD; nothing to take, nothing to announce
            return None
        self.server.hset(self.status_key, self.worker_id, BUSY)
        self.pops += 1
        return super().next_request()
