"""``pushcrawl worker SITE``: one worker of the site's current run, on this machine or any other.

It reads the run the coordinator published (crawler.distributed.runinfo), refuses to join when there is none
or its settings differ, and then crawls the spider of the site with scrapy-redis' scheduler and dupefilter
keyed by the run: requests come from, and go to, the shared frontier; items go through the usual pipelines
and are pushed by this worker with the run's orderingId; the facts of the run go to the Redis ledger and the
acknowledgements to the shared state. The worker never sweeps, never commits a cursor and writes nothing to
a state file: that is the coordinator's end of the run. What it leaves is a ``final`` record — why its
spider closed, its stats, its cursor — that the coordinator sums into the one report.

A worker registers (``workers``, ``status``) together with its first heartbeat, in one transaction, once its
crawler is built; from then to the final record a thread refreshes the heartbeat key (``hb:<worker>``,
expiring after ``worker_timeout_s``), so a worker busy in a long callback is not taken for dead, and one that
is SIGKILLed is. The slow part of a start (Python and Scrapy imports, the connector) comes before that: the
coordinator waits for it up to ``join_timeout_s``, and never counts it as silence.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable

import redis
from redis.client import Pipeline
from scrapy.crawler import CrawlerProcess

from connectors.base import Connector
from crawler import context, offline, secrets
from crawler.config import CoveoTarget, Settings, connector_options
from crawler.context import Run
from crawler.distributed.config import DistributedConfig
from crawler.distributed.frontier import BUSY, DONE, STATUS_KEY, WORKER_ID
from crawler.distributed.keys import Keys, connect
from crawler.distributed.ledger import RedisLedger
from crawler.distributed.member import HEARTBEAT, LOCK_KEY, RUN_PREFIX
from crawler.distributed.runinfo import NoCurrentRun, RunInfo, check_same, distributed_config
from crawler.distributed.shared import SharedState
from crawler.errors import PushcrawlError, TargetError
from crawler.runlog import Verbosity, open_run_log
from crawler.runner import scrapy_settings, user_settings_win
from crawler.scrapytypes import SettingsDict
from crawler.targets import coveo_client


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def join(client: redis.Redis, scope: str) -> tuple[Keys, RunInfo]:
    current = client.get(Keys(scope).current)
    if current is None:
        raise NoCurrentRun(
            f"no run of {scope} is current in Redis: start one with `pushcrawl crawl SITE --workers N`, "
            "then start workers"
        )
    keys = Keys(scope, int(str(current)))
    raw = client.get(keys.run("info"))
    if raw is None or client.exists(keys.run("done")):
        raise NoCurrentRun(f"run {current!s} of {scope} is ending: it takes no new workers")
    if not client.exists(keys.lock):
        raise NoCurrentRun(f"run {current!s} of {scope} has no living coordinator (its lock lapsed): start a new run")
    return keys, RunInfo.loads(str(raw))


class Heartbeat:
    def __init__(self, client: redis.Redis, keys: Keys, worker_id: str, cfg: DistributedConfig) -> None:
        self.client, self.key = client, keys.worker("hb", worker_id)
        self.beat_s, self.ttl_ms = cfg.heartbeat_s, int(cfg.worker_timeout_s * 1000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pushcrawl-heartbeat", daemon=True)

    def first_beat(self, pipe: Pipeline) -> None:
        pipe.set(self.key, str(time.time()), px=self.ttl_ms)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.beat_s):
            # a lost Redis is seen by the reactor's beat (crawler.distributed.member), which stops the spider
            with contextlib.suppress(redis.RedisError):
                self.client.set(self.key, str(time.time()), px=self.ttl_ms)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)


def register(client: redis.Redis, keys: Keys, wid: str, beat: Heartbeat) -> None:
    """Join the run's workers: the first heartbeat, the registration and the status in one MULTI/EXEC, so the
    coordinator never sees a worker registered without a heartbeat (it would take it for dead). Called once
    the crawler is built — the slow part of a start (imports, the connector, Scrapy's components) is done
    before the coordinator counts this worker, so a starved start is never a silence."""
    pipe = client.pipeline(transaction=True)
    beat.first_beat(pipe)
    pipe.hset(
        keys.run("workers"), wid, json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "joined": time.time()})
    )
    pipe.hset(keys.run("status"), wid, BUSY)
    pipe.execute()
    beat.start()


def run_worker(
    settings: Settings,
    site: str,
    *,
    target_override: str | None = None,
    worker_id: str | None = None,
    log_level: str = "INFO",
    verbosity: Verbosity = "normal",
) -> int:
    cfg = distributed_config(settings, site)
    client = connect(cfg)
    target_name, target = settings.target_for(site, target_override)
    keys, info = join(client, f"{target_name}/{site}")
    check_same(info, settings, site)
    if not isinstance(target, CoveoTarget):
        raise TargetError("a worker pushes over HTTP: its target must be `kind: coveo` (Coveo or `pushcrawl serve`)")
    wid = worker_id or default_worker_id()
    beat = Heartbeat(client, keys, wid, cfg)
    state_dir = settings.resolve_path(settings.state_dir)
    runlog = open_run_log(state_dir, f"{site}-worker-{wid}", info.run_id, verbosity, log_level)
    try:
        reason, stats, cursor, listed = _crawl(
            settings, site, keys, info, cfg, wid, log_level, verbosity, lambda: register(client, keys, wid, beat)
        )
        final = {"reason": reason, "stats": stats, "cursor": cursor, "log": str(runlog.path or "")}
        pipe = client.pipeline(transaction=True)
        for start in range(0, len(listed), 5000):
            pipe.sadd(keys.run("listed"), *listed[start : start + 5000])
        pipe.hset(keys.run("final"), wid, json.dumps(final))
        pipe.hset(keys.run("status"), wid, DONE)
        pipe.execute()
    finally:
        beat.stop()
        runlog.close()
    return 0 if reason == "finished" else 1


def _crawl(
    settings: Settings,
    site: str,
    keys: Keys,
    info: RunInfo,
    cfg: DistributedConfig,
    wid: str,
    log_level: str,
    verbosity: Verbosity,
    joined: Callable[[], None],
) -> tuple[str, dict[str, float], str | None, list[str]]:
    cls, options = connector_options(settings, site)
    client = connect(cfg)
    target = settings.targets[info.target_name]
    assert isinstance(target, CoveoTarget)
    run = Run(
        settings=settings,
        site_name=site,
        site=settings.sites[site],
        target_name=info.target_name,
        scope=keys.scope,
        mode=info.mode,
        dry_run=False,
        run_id=info.run_id,
        ordering_id=info.ordering_id,
        state=SharedState(client, keys),
        ledger=RedisLedger(client, keys),
        sweep_from=info.sweep_from,
        client=coveo_client(settings, target),
        source_id=info.source_id,
        provider_id=info.provider_id,
    )
    offline.no_network_lookups()
    values = scrapy_settings(settings, site, log_level, verbosity)
    values.update(scrapy_redis_settings(cfg, keys, wid))
    values["EXTENSIONS"] = {**values["EXTENSIONS"], "crawler.distributed.member.Member": 520}
    values["SPIDER_MIDDLEWARES"] = {**values.get("SPIDER_MIDDLEWARES", {}), "crawler.distributed.member.SeedOnce": 1}
    bound = context.bind(run)
    values.update(bound)
    try:
        process = CrawlerProcess(values)
        crawler = process.create_crawler(cls)
        user_settings_win(crawler, settings, site)
        # no known ids: a worker cannot recheck what other workers reached (a full run's sweep covers those)
        process.crawl(crawler, options=options, site=site, mode=info.mode, since=info.since, known_ids=set())
        secrets.install_log_filter()
        joined()  # registered (with its first heartbeat) only now, just before the reactor runs the crawl
        process.start()
    finally:
        context.unbind(bound)
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider = crawler.spider
    if not isinstance(spider, Connector):
        raise PushcrawlError(f"{cls.__name__} did not make a connector spider")
    numeric = {k: v for k, v in stats.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    listed = sorted(spider.listed_ids) if cls.lists_all_ids else []
    return str(stats.get("finish_reason", "unknown")), numeric, spider.new_cursor, listed


# Any: Scrapy settings hold values of every type
def scrapy_redis_settings(cfg: DistributedConfig, keys: Keys, wid: str) -> SettingsDict:
    params: SettingsDict = {}
    if cfg.password is not None:
        params["password"] = cfg.password.get_secret_value()  # registered as a secret: redacted in the log
    return {
        "SCHEDULER": "crawler.distributed.frontier.RunScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # the frontier is the run's, not this worker's: never flushed at close
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "REDIS_URL": cfg.redis_url,
        "REDIS_PARAMS": params,
        WORKER_ID: wid,
        STATUS_KEY: keys.run("status"),
        RUN_PREFIX: keys.run_prefix,
        HEARTBEAT: cfg.heartbeat_s,
        LOCK_KEY: keys.lock,
    }
