"""Run one site: validate options → ping → open the target → crawl through the pipelines → end of run.

Scrapy's reactor runs once per process, so a process runs one site; ``pushcrawl crawl a b`` and the
scheduler run each site in its own process (see crawler.commands.crawl).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any, TextIO

from scrapy.crawler import CrawlerProcess

from crawler import defaults, secrets
from crawler.config import Settings, connector_options
from crawler.context import RunContext
from crawler.errors import PushcrawlError, RunRefused
from crawler.finish import apply_deletions, guard, plan_deletions
from crawler.report import RunReport, apply_field_stats, counts_from_stats
from crawler.state import StateStore
from crawler.targets import OpenTarget, open_target
from pipelines import ORDER

logger = logging.getLogger(__name__)


def scrapy_settings(settings: Settings, site: str, log_level: str) -> dict[str, Any]:
    values: dict[str, Any] = dict(defaults.SCRAPY)
    values.update(
        {
            "ITEM_PIPELINES": dict(ORDER),
            "LOG_FORMATTER": "crawler.logformatter.PushcrawlLogFormatter",
            "LOG_LEVEL": log_level,
            "LOGSTATS_INTERVAL": 15.0,
        }
    )
    values.update(settings.sites[site].scrapy)
    return values


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
) -> RunReport:
    started = time.monotonic()
    cls, options = connector_options(settings, site)
    target_name, _ = settings.target_for(site, target_override)
    scope = f"{target_name}/{site}"
    mode = "full" if full else "incremental"
    ordering_id = int(time.time() * 1000)
    state = StateStore(settings.resolve_path(settings.state_dir) / "state.sqlite")
    report = RunReport(site, mode, "failed", ordering_id, {}, 0, 0.0, dry_run=dry_run, target=target_name)
    opened: OpenTarget | None = None
    run_id = state.start_run(scope, site, mode, ordering_id, os.getpid())
    try:
        cls.ping(options)
        since = state.cursor(scope) if mode == "incremental" and cls.supports_incremental else None
        for batch in state.journal_pending(scope):
            logger.warning(
                "a previous run left batch %s (%d items) unacknowledged: those items will be pushed again",
                batch["batch_id"][:8],
                batch["items"],
            )
            state.journal_close(batch["batch_id"], "abandoned")
        if not dry_run:
            opened = open_target(settings, site, target_override)
            report.source, report.location, report.extra["local"] = (
                opened.source_name,
                opened.location,
                opened.is_local,
            )
        ctx = RunContext(
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
            client=opened.client if opened else None,
            source_id=opened.source_id if opened else None,
            dry_run_out=dry_run_out if dry_run else None,
        )
        if opened and settings.push.set_source_status:
            opened.client.set_status(opened.source_id, "REBUILD" if full else "INCREMENTAL")
        spider, stats, reason = _crawl(settings, site, cls, options, ctx, mode, since, log_level)
        _finish(report, ctx, spider, stats, reason, opened, allow_mass_deletion)
    except RunRefused as exc:
        report.status, report.message = "failed", str(exc)
    except PushcrawlError as exc:
        report.status, report.message = "failed", str(exc)
    except KeyboardInterrupt:
        report.status, report.message = "aborted", "interrupted"
    finally:
        if opened is not None:
            _close_target(settings, opened, report)
        report.duration_s = round(time.monotonic() - started, 3)
        state.finish_run(run_id, report.status, report.counts, secrets.redact(report.message))
        state.close()
    return report


def _crawl(
    settings: Settings,
    site: str,
    cls: Any,
    options: Any,
    ctx: RunContext,
    mode: str,
    since: str | None,
    log_level: str,
) -> tuple[Any, dict[str, Any], str]:
    process = CrawlerProcess(scrapy_settings(settings, site, log_level))
    crawler = process.create_crawler(cls)
    crawler.pushcrawl = ctx  # type: ignore[attr-defined]
    # Incremental runs tell the spider what was indexed before, so link-following and sitemap connectors can
    # recheck ids they did not reach (404/410 → Deletion). Read-only for the connector.
    known = set(ctx.state.fingerprints(ctx.scope)) if mode == "incremental" else set()
    process.crawl(crawler, options=options, site=site, mode=mode, since=since, known_ids=known)
    secrets.install_log_filter()  # CrawlerProcess installed its root handler above
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return crawler.spider, stats, str(stats.get("finish_reason", "unknown"))


def _finish(
    report: RunReport,
    ctx: RunContext,
    spider: Any,
    stats: dict[str, Any],
    reason: str,
    opened: OpenTarget | None,
    allow_mass: bool,
) -> None:
    counts, dropped = counts_from_stats(stats)
    report.counts, report.dropped_by_reason = counts, dropped
    report.batches = int(stats.get("pushcrawl/batches", 0))
    report.extra["would_push"] = int(stats.get("pushcrawl/would_push", 0))
    apply_field_stats(report, stats)  # collected-not-indexed, renamed and rejected field names
    why = []
    if reason != "finished":
        why.append(f"spider closed with reason {reason!r}")
    if not spider.listing_complete:
        why.append(f"{len(spider.listing_errors)} listing page(s) failed")
    if counts["errors"]:
        why.append(f"{counts['errors']} error(s)")
    if ctx.fatal:
        why.append(ctx.fatal)
    complete = not why
    plan = plan_deletions(ctx, spider, complete, "; ".join(why), opened)
    report.deleted_ids = plan.ids
    if plan.skipped_reason:
        logger.warning(plan.skipped_reason)
    if plan.ids:
        guard(ctx, plan, allow_mass)
        if opened is not None:
            counts["deleted"] = apply_deletions(ctx, plan, opened)
    if complete:
        report.status = "finished"
        if spider.new_cursor and not ctx.dry_run:
            ctx.state.commit_cursor(ctx.scope, spider.new_cursor, ctx.run_id)
    else:
        report.status = "aborted" if reason in ("shutdown", "cancelled") else "failed"
        report.message = "; ".join(why) + ("" if not plan.skipped_reason else f" — {plan.skipped_reason}")


def _close_target(settings: Settings, opened: OpenTarget, report: RunReport) -> None:
    try:
        if settings.push.set_source_status:
            opened.client.set_status(opened.source_id, "IDLE")
        if opened.is_local and not opened.wait_idle(defaults.LOCAL_APPLY_TIMEOUT_S):
            logger.warning(
                "the local Push API had not applied every operation after %ss", defaults.LOCAL_APPLY_TIMEOUT_S
            )
    except PushcrawlError as exc:
        logger.warning("closing the target: %s", exc)
    finally:
        opened.close()


def print_progress_note(out: TextIO = sys.stderr) -> None:
    out.write("pushcrawl: starting\n")
