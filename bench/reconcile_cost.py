"""What reconciliation costs next to the push it checks (issue 16): N items pushed in batches to the local Push
API over HTTP and applied, then one end-of-run read of the Source Logs API and its classification, side by
side in one run (the ratio is the figure; absolute times depend on the machine's load, printed with them).

    python bench/reconcile_cost.py --items 20000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from crawler.indexing_log import IndexingLog
from crawler.localapi import LocalPushAPI
from crawler.pushapi.client import PushApiClient
from crawler.pushapi.logs import SourceLogsClient
from crawler.reconcile import RunRef, after_run
from crawler.state import StateStore

KEY, ORG, BATCH = "bench-key", "pushcrawl-local", 5000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=20000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalPushAPI(Path(tmp) / "api", api_keys=[KEY]) as api:
        client = PushApiClient(f"{api.base_url}/push/v1", f"{api.base_url}/rest", ORG, KEY)
        source = str(client.create_source("bench")["id"])
        oid = int(time.time() * 1000)
        ids = [f"https://bench.example/page/{n}" for n in range(args.items)]
        load_before = os.getloadavg()[0]
        t0 = time.monotonic()
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            body = {"addOrUpdate": [{"documentId": d, "data": f"text of {d}", "title": d} for d in chunk]}
            client.upload_batch(source, json.dumps(body).encode(), oid)
        assert api.wait_idle(3600)
        push_s = time.monotonic() - t0

        state = StateStore(Path(tmp) / "state.sqlite")
        run_id = state.start_run("bench/site", "site", "full", oid, os.getpid())
        state.commit_items("bench/site", run_id, oid, [(d, "fp") for d in ids])
        store = IndexingLog(state.path)
        logs = SourceLogsClient(f"{api.base_url}/logs/v1", ORG, KEY)
        t1 = time.monotonic()
        reading, error = after_run(store, logs, source, "bench/site", RunRef(run_id, oid, oid / 1000 - 1))
        reconcile_s = time.monotonic() - t1
        assert reading is not None and not error, error
        s = reading.summary
        print(
            f"items {args.items:,}: push+apply {push_s:.1f}s, reconcile {reconcile_s:.1f}s "
            f"({logs.requests_made} Source Logs calls), ratio {reconcile_s / push_s:.2f} · "
            f"indexed {s.indexed:,} rejected {s.rejected} pending {s.pending} · "
            f"load {load_before:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        store.close()
        state.close()


if __name__ == "__main__":
    main()
