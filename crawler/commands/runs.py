"""``pushcrawl runs [SITE...]``: run history from the state store; ``--check`` for monitoring.

``--check`` exits 1 when, for a site, the last (non-dry) run did not finish, or its document count fell by more
than ``--max-drop`` (default 0.2 = 20 %) from the previous finished run of the same mode — a CMS that suddenly
lists far fewer pages is worth a look before the next full reindex sweeps them. Modes are compared separately
because an incremental run of a cursor-based connector only sees what changed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TextIO

from crawler import defaults
from crawler.commands import Subparsers, runs_show
from crawler.config import Settings, load_settings
from crawler.errors import SettingsError
from crawler.indexing_log import IndexingLog
from crawler.jsontypes import JSONObject
from crawler.runlock import ScopeLock
from crawler.state import StateStore

COLUMNS = ("documents", "pushed", "unchanged", "deleted", "dropped", "errors")
#: from the run's reconciliation ("-": not read back from the index)
INDEX_COLUMNS = ("indexed", "rejected", "pending")


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "runs", help="run history (mode, status, counts, duration); `runs show RUN_ID`: one run's failures"
    )
    p.add_argument(
        "sites",
        nargs="*",
        metavar="SITE",
        help="only these sites (default: all); or `show RUN_ID`: every dropped, failed and rejected item of a run",
    )
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("--limit", type=int, default=20, help="runs to show per site (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--check", action="store_true", help="exit 1 if a site's last run failed or its documents fell")
    p.add_argument(
        "--max-drop", type=float, default=defaults.RUNS_MAX_DROP, help="largest allowed fall of documents for --check"
    )
    p.set_defaults(func=run)


def _history(settings: Settings, sites: list[str], limit: int) -> list[JSONObject]:
    path = settings.resolve_path(settings.state_dir) / "state.sqlite"
    if not path.exists():
        return []
    state = StateStore(path)
    indexing = IndexingLog(path)
    try:
        out: list[JSONObject] = []
        for site in sites:
            out += state.runs(site=site, limit=limit)
        for r in out:  # the funnel's tail: what the index did with the run's items (crawler.reconcile)
            summary = indexing.summary(r["id"])
            r["indexing"] = summary.to_json() if summary else None
    finally:
        indexing.close()
        state.close()
    lock_dir = settings.resolve_path(settings.state_dir)
    for r in out:
        r["duration_s"] = round(r["finished_at"] - r["started_at"], 1) if r["finished_at"] else None
        if r["status"] != "running":
            continue
        if r["dry_run"]:  # dry runs take no lock: look at the process (a reused pid only delays the verdict)
            if not _alive(r["pid"]):
                r["status"] = "died"
        elif not ScopeLock(lock_dir, r["scope"]).is_held():
            r["status"] = "died"  # no process holds the site's lock: it was killed; the next run marks it 'killed'
    return sorted(out, key=lambda r: r["id"], reverse=True)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check(runs: list[JSONObject], site: str, max_drop: float) -> str | None:
    """A problem with the site's last real run, or None when it looks healthy."""
    real = [r for r in runs if r["site"] == site and not r["dry_run"] and r["status"] != "running"]
    if not real:
        return f"{site}: no finished run yet"
    last = real[0]
    if last["status"] != "finished":
        return f"{site}: last run #{last['id']} {last['status']}: {last['message'] or 'no message'}"
    before = [r for r in real[1:] if r["status"] == "finished" and r["mode"] == last["mode"]]
    if before:
        old, new = int(before[0]["counts"].get("documents", 0)), int(last["counts"].get("documents", 0))
        if old and (old - new) / old > max_drop:
            return (
                f"{site}: documents fell from {old} (run #{before[0]['id']}) to {new} (run #{last['id']}), "
                f"-{(old - new) / old:.0%}, more than --max-drop {max_drop:.0%}"
            )
    return None


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings, resolve_targets=False)  # local history only: no target secrets
    if args.sites[:1] == ["show"]:
        return runs_show.run(settings, args.sites[1:], args.json)
    for site in args.sites:
        if site not in settings.sites:
            known = ", ".join(sorted(settings.sites)) or "none"
            raise SettingsError(str(settings.source_file), f"sites.{site}", f"a site defined in the file ({known})")
    sites = args.sites or list(settings.sites)
    runs = _history(settings, sites, max(args.limit, 2))
    problems = [p for s in sites if (p := check(runs, s, args.max_drop))] if args.check else []
    if args.json:
        json.dump({"runs": runs[: args.limit * len(sites)], "problems": problems}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _table(runs[: args.limit * len(sites)], sys.stdout)
        for problem in problems:
            print(f"CHECK FAILED {problem}", file=sys.stderr)
        if args.check and not problems:
            print(f"check passed for {len(sites)} site(s)", file=sys.stderr)
    return 1 if problems else 0


def _table(runs: list[JSONObject], out: TextIO) -> None:
    if not runs:
        out.write("no runs recorded yet\n")
        return
    head = ["#", "site", "target", "mode", "status", "started", "duration", *COLUMNS, *INDEX_COLUMNS]
    rows = [head]
    for r in runs:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"]))
        dur = "-" if r["duration_s"] is None else f"{r['duration_s']:.1f}s"
        mode = r["mode"] + (" (dry)" if r["dry_run"] else "")
        rows.append(
            [str(r["id"]), r["site"], r["scope"].split("/", 1)[0], mode, r["status"], started, dur]
            + [str(r["counts"].get(c, "")) for c in COLUMNS]
            + [str(r["indexing"][c]) if r.get("indexing") else "-" for c in INDEX_COLUMNS]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
    for r in runs:  # a scaled-out run (crawl --workers): each worker's part
        for wid, w in sorted((r["counts"].get("workers") or {}).items()):
            parts = " · ".join(f"{k} {v}" for k, v in w.items() if k != "reason")
            out.write(f"#{r['id']} worker {wid}: {w.get('reason', '?')}{' · ' + parts if parts else ''}\n")
    failed = [r for r in runs if r["status"] not in ("finished", "running") and r["message"]]
    for r in failed[:5]:
        out.write(f"#{r['id']} {r['status']}: {r['message'][:300]}\n")
