"""Run one site: validate options → ping → open the target → crawl through the pipelines → end of run.

Scrapy's reactor runs once per process, so a process runs one site; ``pushcrawl crawl a b`` and the
scheduler run each site in its own process (see crawler.commands.crawl).

A real run holds the scope's run lock (crawler.runlock) from before it reads any state until it has written
its last byte, so two runs of one site never overlap and a crashed one never blocks the next. Resuming after
a crash needs no special command: the next run skips what was acknowledged (fingerprints) and a full run
continues the unfinished full reindex's sweep threshold (crawler.state). The frontier is rebuilt from the
listings rather than from a Scrapy JOBDIR: JOBDIR marks a request as seen when it is scheduled, so pages whose
items were still in a push buffer or an unacknowledged batch at the kill would never be fetched again.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings.default_settings import EXTENSIONS_BASE

from connectors.base import Connector, ConnectorOptions
from crawler import context, defaults, indexed, offline, revalidate, secrets
from crawler.config import Settings, connector_options
from crawler.context import Run
from crawler.deletions import Listing
from crawler.errors import PushcrawlError, RunRefused
from crawler.finish import CrawlOutcome, PushedTo, finish
from crawler.indexing_log import IndexingLog
from crawler.ledger import SqliteLedger
from crawler.naming import provider_id, source_name_for
from crawler.reconcile import RunRef
from crawler.report import RunReport, counts_from_stats
from crawler.runlock import ScopeLock
from crawler.runlog import Verbosity, open_run_log
from crawler.scrapytypes import SettingsDict
from crawler.state import StateStore
from crawler.targets import OpenTarget, open_target
from pipelines import ORDER

if TYPE_CHECKING:  # the distributed run imports redis: only when one is asked for
    from crawler.distributed.protocol import ScaleOut

logger = logging.getLogger(__name__)

#: Scrapy extensions a run never uses (crawler.progress replaces LogStats), kept out of EXTENSIONS_BASE
_UNUSED_EXTENSIONS = ("scrapy.extensions.logstats.LogStats", "scrapy.extensions.remote_control.RemoteControl")


def scrapy_settings(settings: Settings, site: str, log_level: str, verbosity: Verbosity = "normal") -> SettingsDict:
    # Any: Scrapy settings hold values of every type (its own API takes ``dict[str, Any]``)
    values: SettingsDict = dict(defaults.SCRAPY)
    values.update(
        {
            "PUSHCRAWL_VERBOSITY": verbosity,
            # crawler.runlog already routed the log (file + terminal by verbosity): Scrapy adds no handler
            "LOG_INSTALL_ROOT_HANDLER": False,
            "ITEM_PIPELINES": dict(ORDER),
            "LOG_FORMATTER": "crawler.logformatter.PushcrawlLogFormatter",
            "LOG_LEVEL": log_level,
            # crawler.progress replaces LogStats: a live line on a terminal, periodic log lines otherwise
            # crawler.completeness records item errors and listing failures in the run ledger
            # RemoteControl is off anyway (REMOTE_CONTROL_ENABLED: False) but Scrapy imports every extension it
            # lists, even one set to None in EXTENSIONS (to normalise the key), and its module loads aiohttp:
            # ~10 MB of every run's fixed memory, only to raise NotConfigured. Left out of the base instead.
            "EXTENSIONS_BASE": {k: v for k, v in EXTENSIONS_BASE.items() if k not in _UNUSED_EXTENSIONS},
            "EXTENSIONS": {
                "crawler.progress.Progress": 500,
                "crawler.completeness.Completeness": 510,
                "crawler.drops.NamedDrops": 520,  # each dropped item's id and reason in the run ledger
            },
            # nothing larger than a file container can be pushed: refuse it from Content-Length, or stop
            # reading at the cap, instead of holding it in memory (connectors count it as too_large)
            "DOWNLOAD_MAXSIZE": settings.push.container_max_bytes,
        }
    )
    values.update(settings.sites[site].scrapy)
    return values


def user_settings_win(crawler: Crawler, settings: Settings, site: str) -> None:
    """Give the site's own Scrapy settings (``sites.SITE.scrapy`` and ``-s NAME=value``) the last word.

    ``CrawlerProcess(values)`` holds them at Scrapy's "project" priority, and a connector's
    ``custom_settings`` (the API connectors' polite defaults: per-domain concurrency, retries, AutoThrottle)
    land above that, at "spider" priority: a user's ``CONCURRENT_REQUESTS_PER_DOMAIN: 1`` was silently
    replaced by the connector's 4. Set again at "cmdline" priority they win; a dict-valued setting
    (``DOWNLOADER_MIDDLEWARES``…) is merged into the connector's, so its own components stay unless the user
    names them. Must run before ``crawl()`` freezes the settings."""
    settings_win(crawler, settings.sites[site].scrapy)


def settings_win(crawler: Crawler, values: SettingsDict) -> None:
    """``values`` over a connector's ``custom_settings`` (user_settings_win; tests' in-process crawls too)."""
    for name, value in values.items():
        if isinstance(value, dict):
            value = {**crawler.settings.getdict(name), **value}
        crawler.settings.set(name, value, priority="cmdline")


def run_site(
    settings: Settings,
    site: str,
    *,
    full: bool = False,
    dry_run: bool = False,
    target_override: str | None = None,
    allow_mass_deletion: bool = False,
    log_level: str = "INFO",
    dry_run_out: TextIO | None = None,
    verbosity: Verbosity = "normal",
    scale_out: ScaleOut | None = None,
    wait_indexed: float | None = None,
) -> RunReport:
    """Run one site. With ``scale_out`` (``crawl --workers N``) the run is the same — lock, run row, ordering
    id, ping, target, end-of-run steps — but its facts go to a Redis ledger and its crawl phase is the
    coordinator's workers (crawler.distributed.coordinator). ``wait_indexed``: seconds to wait at the end
    until the index applied or refused every item pushed (crawler.reconcile)."""
    started = time.monotonic()
    _abort_on_sigterm()
    cls, options = connector_options(settings, site)
    target_name, _ = settings.target_for(site, target_override)
    scope = f"{target_name}/{site}"
    mode = "full" if full else "incremental"
    ordering_id = int(time.time() * 1000)
    state_dir = settings.resolve_path(settings.state_dir)
    # a dry run sends and commits nothing, so it may run beside a real one; a real run must hold the lock
    lock = ScopeLock(state_dir, scope)
    if not dry_run:
        lock.acquire()
    try:
        state = StateStore(state_dir / "state.sqlite")
    except BaseException:
        lock.release()
        raise
    mode = _continue_pending_full(state, scope, mode)
    report = RunReport(site, mode, "failed", ordering_id, {}, 0, 0.0, dry_run=dry_run, target=target_name)
    opened: OpenTarget | None = None
    run_id = state.start_run(scope, site, mode, ordering_id, os.getpid(), dry_run)
    ledger = scale_out.ledger(run_id) if scale_out is not None else SqliteLedger(state.path, run_id)
    indexing = IndexingLog(state.path)  # what the index did with each run's items (crawler.reconcile)
    runlog = open_run_log(state_dir, site, run_id, verbosity, log_level)
    report.log_file = str(runlog.path or "")
    try:
        cls.ping(options)
        since = state.cursor(scope) if mode == "incremental" and cls.supports_incremental else None
        sweep_from = _prepare(state, scope, run_id, mode, ordering_id, dry_run)
        if not dry_run:  # retention: the state file stays flat in the number of runs (defaults.KEEP_RUNS)
            kept = state.prune(scope, settings.keep_runs)
            ledger.prune(kept)
            indexing.prune(kept)
        if not dry_run:
            opened = open_target(settings, site, target_override)
            report.source, report.location, report.extra["local"] = (
                opened.source_name,
                opened.location,
                opened.is_local,
            )
            indexed.start(indexing, opened, scope, run_id, report)  # step: settle earlier runs' pending items
            since = indexed.relist(indexing, scope, run_id, since)  # rejected items must be fetched again
        target_cfg = settings.targets[target_name]
        ctx = Run(
            settings=settings,
            site_name=site,
            site=settings.sites[site],
            target_name=target_name,
            scope=scope,
            mode=mode,
            dry_run=dry_run,
            run_id=run_id,
            ordering_id=ordering_id,
            state=state,
            ledger=ledger,
            sweep_from=sweep_from,
            client=opened.client if opened else None,
            source_id=opened.source_id if opened else None,
            provider_id=provider_id(settings, target_cfg, source_name_for(settings, site, target_cfg)),
            dry_run_out=dry_run_out if dry_run else None,
        )
        if opened and settings.push.set_source_status:
            opened.client.set_status(opened.source_id, "REBUILD" if mode == "full" else "INCREMENTAL")
        if scale_out is not None:
            outcome = scale_out.crawl(ctx, cls, since)
        else:
            outcome = _crawl(settings, site, cls, options, ctx, since, log_level, verbosity)
        _abort_on_sigterm()  # Scrapy's handlers are inert once its reactor stopped
        pushed_to = PushedTo(opened.client, opened.source_id, opened.source_name, opened.is_local) if opened else None
        finish(report, ctx, outcome, pushed_to, allow_mass_deletion)
        if not dry_run:  # step: what the index did with this run's items (--wait-indexed: wait for it)
            indexed.end(
                indexing,
                opened,
                scope,
                RunRef(run_id, ordering_id, ordering_id / 1000),
                report,
                ledger,
                wait_indexed,
                relisted=since is None,
            )
    except RunRefused as exc:
        report.status, report.message = "failed", str(exc)
        report.extra["refused"] = True  # `crawl` exits 3: a data-safety rule, not a broken run
    except PushcrawlError as exc:
        report.status, report.message = "failed", str(exc)
        # a run stopped before or after crawling (ping, target, a failed deletion call) still reports every
        # count, and the failure itself as an error: "failed · errors 0" would read as a contradiction
        counts, _ = counts_from_stats({})
        report.counts = {**counts, **report.counts}
        report.counts["errors"] = max(1, report.counts["errors"])
    except KeyboardInterrupt as exc:
        report.status, report.message = "aborted", str(exc) or "interrupted"
    finally:
        try:
            if opened is not None:
                _close_target(settings, opened, report)
            report.duration_s = round(time.monotonic() - started, 3)
            state.finish_run(run_id, report.status, report.counts, secrets.redact(report.message))
            ledger.close()
            indexing.close()
            state.close()
        finally:
            runlog.close()
            lock.release()
    return report


class _Stop:
    """SIGTERM outside Scrapy's reactor (which handles it itself): abort the run cleanly — status recorded,
    lock released, nothing swept — instead of dying with the run still marked 'running'. While Twisted objects
    are being set up an exception would be swallowed by a Deferred, so there the signal only sets a flag."""

    requested = False
    raise_now = True

    @classmethod
    def handler(cls, signum: int, frame: FrameType | None) -> None:
        cls.requested = True
        if cls.raise_now:
            raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")

    @classmethod
    def check(cls) -> None:
        if cls.requested:
            raise KeyboardInterrupt("stopped by SIGTERM")


def _abort_on_sigterm() -> None:
    _Stop.raise_now = True
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _Stop.handler)


def _continue_pending_full(state: StateStore, scope: str, mode: str) -> str:
    """An incremental run while a full reindex is unfinished continues that reindex (as a full run).

    A killed ``--full`` leaves items both old and new, and only a full run ends that (it pushes what is left
    and sweeps what neither run saw). Scheduled runs are incremental; if they merely resumed their cursor and
    exited 0, the reindex would stay half done for ever with every run reported green. Continuing costs only
    what the killed run did not push (items it acknowledged are skipped), and the sweep keeps every safety
    rule (complete run only, mass-deletion guard).
    """
    pending = state.pending_full(scope) if mode == "incremental" else None
    if pending is None:
        return mode
    logger.warning(
        "the full reindex of %s started by run %s did not finish: this run continues it as a full run "
        "(incremental runs resume once it has completed)",
        scope,
        pending["run_id"],
    )
    return "full"


def _prepare(state: StateStore, scope: str, run_id: int, mode: str, ordering_id: int, dry_run: bool) -> int:
    """Tidy what a killed run left behind; return the sweep threshold (resuming an unfinished full run)."""
    if not dry_run:
        dead = state.close_dead_runs(scope, run_id)
        if dead:
            logger.warning("%d earlier run(s) of %s ended without finishing (killed?); resuming", dead, scope)
        for batch in state.journal_pending(scope):
            logger.warning(
                "a previous run left batch %s (%d items) unacknowledged: those items will be pushed again",
                batch["batch_id"][:8],
                batch["items"],
            )
            state.journal_close(batch["batch_id"], "abandoned")
    if mode != "full":
        return ordering_id
    pending = state.pending_full(scope)
    if pending is None:
        if not dry_run:
            state.begin_full(scope, ordering_id, run_id)
        return ordering_id
    logger.warning(
        "resuming the unfinished full reindex of run %s (started %s): items it already pushed are not pushed"
        " again, and the sweep removes only what neither run saw",
        pending["run_id"],
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(pending["started_at"])),
    )
    return int(pending["ordering_id"])


def _crawl(
    settings: Settings,
    site: str,
    cls: type[Connector[Any]],  # Any: a connector loaded by name; its options type is known at run time
    options: ConnectorOptions,
    run: Run,
    since: str | None,
    log_level: str,
    verbosity: Verbosity,
) -> CrawlOutcome:
    _Stop.raise_now = False
    offline.no_network_lookups()  # Scrapy's cookie handling would fetch the Public Suffix List
    values = scrapy_settings(settings, site, log_level, verbosity)
    bound = context.bind(run)  # the crawler reaches the run by this setting (crawler.context.get_context)
    values.update(bound)
    try:
        process = CrawlerProcess(values)
        crawler = process.create_crawler(cls)
        if revalidate.enabled(cls, options):  # before the user's settings: theirs win
            state_dir = settings.resolve_path(settings.state_dir)
            middlewares = crawler.settings.getdict("DOWNLOADER_MIDDLEWARES")
            for name, value in revalidate.scrapy_settings(
                state_dir, run.scope, run.mode, run.dry_run, middlewares
            ).items():
                crawler.settings.set(name, value, priority="spider")
        user_settings_win(crawler, settings, site)
        # Incremental runs tell the spider what was indexed before, so link-following and sitemap connectors
        # can recheck ids they did not reach (404/410 → Deletion). A full run's sweep covers those ids instead.
        known = set(run.state.fingerprints(run.scope)) if run.mode == "incremental" and cls.uses_known_ids else set()
        process.crawl(crawler, options=options, site=site, mode=run.mode, since=since, known_ids=known)
        del known  # the spider holds its own reference as long as it needs one
        secrets.install_log_filter()  # CrawlerProcess installed its root handler above
        _Stop.check()
        process.start()  # installs Scrapy's own SIGTERM/SIGINT handling: graceful close, reason "shutdown"
    finally:
        context.unbind(bound)
    stats = crawler.stats.get_stats() if crawler.stats else {}
    reason = str(stats.get("finish_reason", "unknown"))
    if reason == "finished":
        _Stop.check()  # a signal in the instant before Scrapy's handlers took over
    spider = crawler.spider
    if not isinstance(spider, Connector):  # connector_options() admits Connector subclasses only
        raise PushcrawlError(f"{cls.__name__} did not make a connector spider")
    listing = Listing(frozenset(spider.listed_ids)) if cls.lists_all_ids else None
    return CrawlOutcome(reason, stats, spider.new_cursor, listing)


def _close_target(settings: Settings, opened: OpenTarget, report: RunReport) -> None:
    try:
        if settings.push.set_source_status:
            opened.client.set_status(opened.source_id, "IDLE")
        if opened.is_local and not opened.wait_idle(defaults.LOCAL_APPLY_TIMEOUT_S):
            gone = opened.client.gone()  # its child process exited: wait_idle answered at once, not after the wait
            logger.warning(
                "the local Push API had not applied every operation %s",
                f"({gone})" if gone else f"after {defaults.LOCAL_APPLY_TIMEOUT_S}s",
            )
    except PushcrawlError as exc:
        logger.warning("closing the target: %s", exc)
    finally:
        opened.close()
