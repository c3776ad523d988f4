"""The run report: counts from Scrapy's stats, the JSON written by ``--report``, and the closing summary."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from crawler import secrets
from crawler.funnel import summary_lines as funnel_lines
from crawler.jsontypes import JSONObject

#: Scrapy's stats values. Any: its StatsT is ``dict[str, Any]`` (counters, but also datetimes and strings)
Stats = dict[str, Any]


@dataclass
class RunReport:
    site: str
    mode: str
    status: str  # finished | failed | aborted
    ordering_id: int
    counts: dict[str, int]
    batches: int
    duration_s: float
    dry_run: bool = False
    message: str = ""
    target: str = ""
    source: str = ""
    location: str = ""
    log_file: str = ""  # this run's full log (crawler.runlog)
    deleted_ids: list[str] = field(default_factory=list)
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    collected_not_indexed: list[str] = field(default_factory=list)
    extra: JSONObject = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        data = asdict(self)
        if len(data["deleted_ids"]) > 1000:  # keep reports readable; the count says how many
            data["deleted_ids"] = data["deleted_ids"][:1000]
        return dict(secrets.redact_obj(data))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @property
    def ok(self) -> bool:
        return self.status == "finished"


def counts_from_stats(stats: Stats) -> tuple[dict[str, int], dict[str, int]]:
    dropped = {
        k.removeprefix("pushcrawl/dropped/"): int(v) for k, v in stats.items() if k.startswith("pushcrawl/dropped/")
    }
    errors = (
        int(stats.get("pushcrawl/errors", 0))
        + int(stats.get("pushcrawl/listing_errors", 0))
        + sum(int(v) for k, v in stats.items() if k.startswith("spider_exceptions/"))
    )
    counts = {
        "fetched": int(stats.get("downloader/response_count", 0)),
        "documents": int(stats.get("pushcrawl/documents", 0)),
        "pushed": int(stats.get("pushcrawl/pushed", 0)),
        "unchanged": int(stats.get("pushcrawl/unchanged", 0)),
        "deleted": 0,
        "dropped": sum(dropped.values()),
        "errors": errors,
    }
    return counts, dropped


def apply_field_stats(report: RunReport, stats: Stats) -> None:
    """Metadata names the run collected without a declared field, and the names it renamed or rejected."""

    def names(prefix: str) -> list[str]:
        return sorted(k.removeprefix(prefix) for k in stats if k.startswith(prefix))

    report.collected_not_indexed = names("pushcrawl/fields/collected_only/")
    renamed = dict(n.rsplit(" -> ", 1) for n in names("pushcrawl/fields/renamed/"))
    rejected = names("pushcrawl/fields/rejected/")
    if renamed or rejected:
        report.extra["fields"] = {"renamed": renamed, "rejected": rejected}
    if invalid_dates := int(stats.get("pushcrawl/dates/invalid", 0)):  # crawler.dates.INVALID_STAT
        report.extra["invalid_dates"] = invalid_dates


def apply_render_stats(report: RunReport, stats: Stats) -> None:
    """Pages rendered in the browser, kept plain, rendered by ``auto``; script errors, crashes, restarts."""
    prefix = "pushcrawl/render/"
    render = {k.removeprefix(prefix): int(v) for k, v in stats.items() if k.startswith(prefix)}
    if render:
        report.extra["render"] = render


def apply_http_stats(report: RunReport, stats: Stats) -> None:
    """Revalidation (crawler.revalidate): pages the server said were not modified, fetched again in full
    after an unbelievable 304, or answered 304 unasked; and the bytes really downloaded (Scrapy's own count
    includes the stored bodies handed over on a 304)."""
    prefix = "pushcrawl/http/"
    http = {k.removeprefix(prefix): int(v) for k, v in stats.items() if k.startswith(prefix)}
    if http:
        saved = http.get("not_downloaded_bytes", 0)
        http["downloaded_bytes"] = int(stats.get("downloader/response_bytes", 0)) - saved
        report.extra["http"] = http


def print_summary(report: RunReport, out: TextIO) -> None:
    c = defaultdict(int, report.counts)  # a run that failed before crawling (ping) has no counts
    kind = "dry run" if report.dry_run else f"{report.mode} run"
    out.write(f"\npushcrawl: {report.site} ({kind}) {report.status} in {report.duration_s:.1f}s\n")
    if report.dry_run:
        out.write(
            f"  would push {report.extra.get('would_push', 0)}, would delete {len(report.deleted_ids)}"
            f" · fetched {c['fetched']} · documents {c['documents']} · dropped {c['dropped']} · errors {c['errors']}\n"
        )
    else:
        out.write(
            f"  fetched {c['fetched']} · documents {c['documents']} · pushed {c['pushed']} · unchanged {c['unchanged']}"
            f" · deleted {c['deleted']} · dropped {c['dropped']} · errors {c['errors']} · batches {report.batches}\n"
        )
    pushed, unchanged = report.extra.get("identities_pushed", 0), report.extra.get("identities_unchanged", 0)
    would_disable = report.extra.get("identities_would_disable")
    if pushed or unchanged or would_disable:
        line = f"  security identities: pushed {pushed} · unchanged {unchanged}"
        if would_disable is not None:
            line += f" · would disable {len(would_disable)}"
        out.write(line + "\n")
    if sweep := report.extra.get("identities_sweep"):  # what a complete full run disabled, said where people look
        out.write(f"  {sweep}\n")
    if render := report.extra.get("render"):
        out.write(
            f"  rendered: {render.get('rendered', 0)} (auto {render.get('auto', 0)}) · plain {render.get('plain', 0)}"
            f" · script errors {render.get('script_errors', 0)} · browser crashes {render.get('browser_crashes', 0)}"
            f" · restarts {render.get('browser_restarts', 0)}\n"
        )
    if http := report.extra.get("http"):  # crawler.revalidate
        out.write(
            f"  revalidated: {http.get('not_modified', 0)} not modified (304) · fetched again in full"
            f" {http.get('refetched', 0)} · downloaded {http.get('downloaded_bytes', 0):,} bytes\n"
        )
    if report.dropped_by_reason:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(report.dropped_by_reason.items()))
        out.write(f"  dropped by reason: {reasons}\n")
    if report.collected_not_indexed:
        out.write(f"  collected, not indexed (no field): {', '.join(report.collected_not_indexed)}\n")
    if fields := report.extra.get("fields"):
        renames = ", ".join(f"{k} → {v}" for k, v in fields["renamed"].items())
        out.write(f"  field names renamed: {renames or 'none'} · rejected: {', '.join(fields['rejected']) or 'none'}\n")
    if report.extra.get("invalid_dates"):
        out.write(f"  invalid dates ignored: {report.extra['invalid_dates']} (each noted on its item)\n")
    for line in funnel_lines(report.extra):  # fetched → … → indexed/rejected/pending, and named failures
        out.write(line + "\n")
    if not_indexed := report.extra.get("not_indexed"):
        out.write(f"  NOT INDEXED: {not_indexed}\n")
    if report.message:
        out.write(f"  {report.message}\n")
    if report.location and not report.dry_run:
        out.write(f"  index: target {report.target}, source {report.source}, {report.location}\n")
        if look := _look_hint(report):
            out.write(f"  look:  {look}\n")
    if report.log_file:
        out.write(f"  log:   {_short(report.log_file)}\n")


def _short(path: str) -> str:
    """A path relative to the working directory when it is below it (what a person would type)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _look_hint(report: RunReport) -> str:
    """How to see what a local run indexed: the exact ``serve`` command for this data directory."""
    if not report.extra.get("local"):
        return ""
    serve = "pushcrawl serve"
    if Path(report.location).resolve() != Path(".pushcrawl/local").resolve():  # serve's --data default
        serve += f" --data {report.location}"
    return f"pushcrawl search WORD   ·   {serve}  (Content Browser on http://127.0.0.1:8090/, or --port)"
