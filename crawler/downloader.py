"""Scrapy's downloader, with its per-slot concurrency held: ``CONCURRENT_REQUESTS_PER_DOMAIN`` is a promise to
the site's owner, and Scrapy 2.19 under the asyncio reactor breaks it.

Scrapy's ``Downloader._process_queue`` starts queued requests while ``slot.free_transfer_slots() > 0``, and a
request takes its place (``slot.transferring.add``) only once its download coroutine runs. With the asyncio
reactor that coroutine is a task (``scrapy.utils.defer._schedule_coro`` → ``loop.create_task``), which runs
on the loop's *next* turn: every request queued in the same turn saw the slot free, so a sitemap of many
pages went out all at once, whatever ``CONCURRENT_REQUESTS_PER_DOMAIN`` said (12 requests in flight with a
limit of 1, tests/integration/test_per_domain_limit.py). ``DOWNLOAD_DELAY`` was held (that branch starts one
request and stops).

``PoliteDownloader`` takes the place when the request is *started* (its coroutine created), not when the
coroutine first runs; Scrapy's own ``_download`` adds it again (a set: no change) and frees it when the
download ends, as before. Set as ``DOWNLOADER`` in crawler.defaults.SCRAPY, so every crawl, worker and test
crawl uses it.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING

from scrapy.core.downloader import Downloader, Slot
from scrapy.http import Request

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.internet.defer import Deferred


class PoliteDownloader(Downloader):
    """A request holds its slot's transfer place from the moment the downloader starts it."""

    # ``_process_queue`` calls this synchronously, in its loop, and schedules the coroutine it returns: the place
    # is taken before the loop checks ``free_transfer_slots()`` for the next queued request
    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[object, object, None]:
        slot.transferring.add(request)
        return super()._wait_for_download(slot, request, queue_dfd)
