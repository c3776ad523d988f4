"""``pushcrawl runs show RUN_ID``: one run with every item it dropped, failed or had rejected, each with its
reason — the full lists the JSON report and the closing summary only start (they keep the first few).

Read from the state file: the run's row, its ledger (crawler.ledger: errors, listing failures, the fatal
reason, drops), and what the index did with its items (crawler.indexing_log: the funnel and each rejection).
"""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

from crawler.config import Settings
from crawler.errors import SettingsError
from crawler.indexing_log import IndexingLog
from crawler.jsontypes import JSONObject
from crawler.ledger import SqliteLedger
from crawler.state import StateStore


def collect(settings: Settings, run_id: int) -> JSONObject | None:
    path = settings.resolve_path(settings.state_dir) / "state.sqlite"
    if not path.exists():
        return None
    state = StateStore(path)
    try:
        found = [r for r in state.runs(limit=1_000_000) if r["id"] == run_id]
    finally:
        state.close()
    if not found:
        return None
    ledger, indexing = SqliteLedger(path, run_id), IndexingLog(path)
    try:
        failures = [{"kind": f.kind, "id": f.item_id, "reason": f.reason} for f in ledger.failures()]
        summary = indexing.summary(run_id)
        rejected = [
            {"id": r.document_id, "result": r.result, "task": r.task, "reason": r.reason}
            for r in indexing.rejections(run_id)
        ]
    finally:
        ledger.close()
        indexing.close()
    return {
        "run": found[0],
        "indexing": summary.to_json() if summary else None,
        "failures": failures,
        "rejected": rejected,
    }


def run(settings: Settings, ids: list[str], as_json: bool) -> int:
    if len(ids) != 1 or not ids[0].lstrip("#").isdigit():
        raise SettingsError("command line", "runs show RUN_ID", "one run number (the # column of `pushcrawl runs`)")
    run_id = int(ids[0].lstrip("#"))
    shown = collect(settings, run_id)
    if shown is None:
        print(f"no run #{run_id} in the state file (it may have been pruned: keep_runs)", file=sys.stderr)
        return 1
    if as_json:
        json.dump(shown, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    else:
        _print(shown, sys.stdout)
    return 0


def _print(shown: JSONObject, out: TextIO) -> None:
    r = shown["run"]
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started_at"]))
    out.write(f"run #{r['id']} · {r['scope']} · {r['mode']}{' (dry)' if r['dry_run'] else ''} · {r['status']}")
    out.write(f" · started {started}\n")
    counts = r["counts"]
    if counts:
        out.write("  " + " · ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "\n")
    if r["message"]:
        out.write(f"  {r['message']}\n")
    i = shown["indexing"]
    if i:
        checked = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(i["checked_at"]))
        out.write(
            f"  index: pushed {i['pushed']} → indexed {i['indexed']} · rejected {i['rejected']}"
            f" · pending {i['pending']} (checked {checked}, {i['checks']} read(s))\n"
        )
    else:
        out.write("  index: not checked (nothing pushed, a dry run, or the Source Logs API could not be read)\n")
    for f in shown["failures"]:
        out.write(f"  {f['kind']:<9} {f['id'] or '-'}: {f['reason']}\n")
    for x in shown["rejected"]:
        out.write(f"  rejected  {x['id']}: {x['result']} at {x['task']}: {x['reason']}\n")
    if not shown["failures"] and not shown["rejected"]:
        out.write("  no dropped, failed or rejected item recorded\n")
