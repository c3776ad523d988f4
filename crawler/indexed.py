"""The runner's two reconciliation steps (crawler.reconcile) with what they add to the run report.

``start(...)`` runs once the target is open, before the crawl; ``end(...)`` after the end-of-run steps
(crawler.finish), while the target is still open: on the embedded local target it first waits until the
server applied its queue, so the one read sees every outcome. Neither raises for a Source Logs API failure:
the reason goes to ``report.extra["reconcile_error"]`` and the items stay pending for the next run.
"""

from __future__ import annotations

import logging
import time

from crawler import funnel
from crawler.defaults import LOCAL_APPLY_TIMEOUT_S
from crawler.indexing_log import IndexingLog, RunIndexing
from crawler.ledger import ERROR, FATAL, LISTING, RunLedger
from crawler.reconcile import REPORT_REJECTED, RunRef, after_run, before_run
from crawler.report import RunReport
from crawler.targets import OpenTarget

logger = logging.getLogger(__name__)


def start(store: IndexingLog, opened: OpenTarget, scope: str, run_id: int, report: RunReport) -> None:
    if opened.logs is None:
        return
    readings = before_run(store, opened.logs, opened.source_id, scope, run_id)
    if readings:
        report.extra["earlier_runs"] = [r.summary.to_json() for r in readings]


def relist(store: IndexingLog, scope: str, run_id: int, since: str | None) -> str | None:
    """The cursor an incremental run uses: none while items the index rejected have not been met again.
    A cursor-based connector (``modified_after``) would otherwise never fetch an unchanged rejected item,
    and its fingerprint, taken back, would wait for the next full run; unchanged items are still skipped."""
    if since is None:
        return None
    waiting = store.unresolved(scope, run_id)
    if not waiting:
        return since
    logger.warning(
        "%d item(s) were rejected by the index after their 202: this run lists the whole site (not only what"
        " changed since %s) to push them again",
        waiting,
        since,
    )
    return None


def end(
    store: IndexingLog,
    opened: OpenTarget | None,
    scope: str,
    run: RunRef,
    report: RunReport,
    ledger: RunLedger,
    wait_s: float | None,
    relisted: bool,
) -> None:
    """Fill the funnel and the named failures; with ``wait_s``, wait for the index first. ``relisted``: the
    run listed the whole site (no cursor), so earlier rejections are resolved if it finished."""
    report.extra["run_id"] = run.run_id
    if relisted and report.status == "finished":
        store.resolve(scope, run.run_id)
    report.extra["failures_total"] = sum(ledger.count(k) for k in (ERROR, LISTING, FATAL))
    summary = None
    if opened is not None and opened.logs is not None and report.counts.get("pushed", 0):
        if opened.is_local and not opened.wait_idle(LOCAL_APPLY_TIMEOUT_S):
            logger.warning("the local Push API had not applied every operation after %ss", LOCAL_APPLY_TIMEOUT_S)
        reading, error = after_run(store, opened.logs, opened.source_id, scope, run, wait_s)
        if error:
            report.extra["reconcile_error"] = error
            logger.warning("%s; the items stay pending and the next run reads them again", error)
        summary = reading.summary if reading else None
    elif opened is not None and opened.logs is not None:
        # nothing pushed: nothing to read, nothing pending
        summary = store.summary(run.run_id) or RunIndexing(run.run_id, 0, 0, 0, 0, time.time(), 0, False)
    report.extra["funnel"] = funnel.funnel(report.counts, summary)
    rejected = store.rejections(run.run_id)
    report.extra["rejected"] = funnel.rejected_json(rejected[:REPORT_REJECTED])
    report.extra["rejected_total"] = len(rejected)
    f = report.extra["funnel"]
    if wait_s is not None and (f["rejected"] or f["pending"] or not f["checked"]):
        why = []
        if f["rejected"]:
            first = ", ".join(r.document_id for r in rejected[:3])
            why.append(f"the index rejected {f['rejected']} item(s) ({first}{', …' if len(rejected) > 3 else ''})")
        if f["pending"] and f["checked"]:
            why.append(f"{f['pending']} item(s) still pending after --wait-indexed {wait_s:g}s")
        if not f["checked"]:
            why.append("the source logs could not be read")
        report.extra["not_indexed"] = "; ".join(why)
