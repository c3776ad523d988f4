"""The per-run funnel — fetched → mapped → pushed (202) → indexed / rejected / still pending — and the named
failures, as the JSON report carries them and the closing summary prints them.

``report.extra["funnel"]``: ``{"fetched", "mapped", "pushed", "indexed", "rejected", "pending", "checked"}``
(``checked`` false when the Source Logs API could not be read: indexed/rejected/pending are then unknown and
everything pushed counts as pending). ``report.extra["rejected"]``: the first REPORT_REJECTED rejected items
``{"id", "result", "task", "reason"}``, ``report.extra["rejected_total"]`` how many in all;
``report.extra["earlier_runs"]``: the funnels of earlier runs settled at this run's start.
"""

from __future__ import annotations

from crawler.indexing_log import Rejection, RunIndexing
from crawler.jsontypes import JSONObject

#: failures the closing summary names before pointing at ``pushcrawl runs show``
SUMMARY_NAMED = 5


def funnel(counts: dict[str, int], indexing: RunIndexing | None) -> JSONObject:
    pushed = indexing.pushed if indexing else int(counts.get("pushed", 0))
    return {
        "fetched": int(counts.get("fetched", 0)),
        "mapped": int(counts.get("documents", 0)),
        "pushed": pushed,
        "indexed": indexing.indexed if indexing else 0,
        "rejected": indexing.rejected if indexing else 0,
        "pending": indexing.pending if indexing else pushed,
        "checked": indexing is not None,
    }


def rejected_json(items: list[Rejection]) -> list[dict[str, str]]:
    return [{"id": r.document_id, "result": r.result, "task": r.task, "reason": r.reason} for r in items]


def summary_lines(extra: JSONObject) -> list[str]:
    """Lines for the closing summary: the funnel, then the first few named failures and where the rest are."""
    lines: list[str] = []
    f = extra.get("funnel")
    if f:
        tail = (
            f"indexed {f['indexed']} · rejected {f['rejected']} · pending {f['pending']}"
            if f["checked"]
            else f"not checked ({extra.get('reconcile_error') or 'no read'})"
        )
        lines.append(f"  funnel: fetched {f['fetched']} → mapped {f['mapped']} → pushed {f['pushed']} (202) → {tail}")
    for run in extra.get("earlier_runs", []):
        lines.append(
            f"  earlier run #{run['run_id']}: indexed {run['indexed']} · rejected {run['rejected']}"
            f" · pending {run['pending']} (of {run['pushed']} pushed)"
        )
    named = [(r["id"], f"rejected by the index at {r['task']}: {r['reason']}") for r in extra.get("rejected", [])]
    named += [(f["id"] or f["kind"], f["reason"]) for f in extra.get("failures", [])]
    total = int(extra.get("rejected_total", 0)) + int(extra.get("failures_total", len(extra.get("failures", []))))
    for item_id, reason in named[:SUMMARY_NAMED]:
        lines.append(f"    {item_id}: {reason[:200]}")
    if total > min(len(named), SUMMARY_NAMED) and extra.get("run_id") is not None:
        lines.append(f"    … {total} in all: pushcrawl runs show {extra['run_id']}")
    elif named and extra.get("run_id") is not None:
        lines.append(f"    (pushcrawl runs show {extra['run_id']} lists them with the run)")
    return lines
