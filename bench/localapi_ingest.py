"""Benchmark of the local Push API: ingest N items through batch file containers, then time searches.

    .venv/bin/python bench/localapi_ingest.py [--items 100000] [--batch 5000] [--searches 200] [--json]

Measures the end-to-end ingest rate (first upload to every operation applied), then search latency p50/p95
anonymously and as a user whose access goes through nested groups (permission filtering on every result),
for broad queries (two common words: ~80% of the items match) and narrow ones (a rare topic word and a
common word: 0.5% match). Everything talks HTTP to a real server on 127.0.0.1, as a crawler would.
``--json`` prints the figures as one JSON object (bench/search_compare.py runs this script against two
implementations and compares them).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import requests

from crawler.localapi import LocalPushAPI

WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
]


TOPICS = 200


def item(i: int, rng: random.Random) -> dict[str, object]:
    kind = i % 4
    if kind == 0:
        perms = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]
    else:
        group = f"team-{i % 20}"
        perms = [
            {
                "allowAnonymous": False,
                "allowedPermissions": [{"identity": group, "identityType": "Group"}],
                "deniedPermissions": [{"identity": "blocked", "identityType": "User"}],
            }
        ]
    # one rare word per item: "topicN" with N = i mod 200, so a narrow query matches 0.5% of the items
    text = " ".join(rng.choice(WORDS) for _ in range(60)) + f" topic{i % TOPICS}"
    return {
        "documentId": f"https://bench.test/doc/{i}",
        "title": f"Document {i} {rng.choice(WORDS)}",
        "author": f"author{i % 50}",
        "data": text,
        "permissions": perms,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        server = LocalPushAPI(Path(tmp), api_keys=["bench"])
        server.start()
        s = requests.Session()
        s.headers.update({"Authorization": "Bearer bench", "Content-Type": "application/json"})
        org = f"{server.base_url}/rest/organizations/pushcrawl-local"
        push = f"{server.base_url}/push/v1/organizations/pushcrawl-local"
        src = s.post(f"{org}/sources", json={"name": "bench", "sourceVisibility": "SECURED"}).json()["id"]
        s.put(f"{org}/securityproviders/bench-ids", json={"sources": [{"id": src}]})
        # user u1 -> team-3 via nested group "outer" -> "team-3"
        for body in (
            {
                "identity": {"name": "team-3", "type": "GROUP"},
                "members": [{"name": "outer", "type": "GROUP"}],
            },
            {"identity": {"name": "outer", "type": "GROUP"}, "members": [{"name": "u1", "type": "USER"}]},
            {
                "identity": {"name": "u1", "type": "USER"},
                "mappings": [{"name": "u1@example.com", "type": "USER", "provider": "Email Security Provider"}],
            },
        ):
            path = "mappings" if "mappings" in body else "permissions"
            s.put(f"{push}/providers/bench-ids/{path}", json=body).raise_for_status()
        start, cpu_start = time.perf_counter(), time.process_time()
        sent = 0
        while sent < args.items:
            docs = [item(i, rng) for i in range(sent, min(sent + args.batch, args.items))]
            container = s.post(f"{push}/files").json()
            requests.put(
                container["uploadUri"],
                data=json.dumps({"addOrUpdate": docs}).encode(),
                headers=container["requiredHeaders"],
            ).raise_for_status()
            s.put(f"{push}/sources/{src}/documents/batch", params={"fileId": container["fileId"]}).raise_for_status()
            sent += len(docs)
        accepted = time.perf_counter() - start
        assert server.wait_idle(3600)
        ingest = time.perf_counter() - start
        # CPU seconds of this process (server threads and the uploading client alike): on a shared machine
        # the wall clock follows the load, CPU time follows the code
        ingest_cpu = time.process_time() - cpu_start
        token = s.post(
            f"{server.base_url}/rest/search/v2/token",
            json={"userIds": [{"name": "u1@example.com", "provider": "Email Security Provider", "type": "User"}]},
        ).json()["token"]
        results = {}
        kinds = (
            ("broad", lambda: " ".join(rng.sample(WORDS, 2))),
            ("narrow", lambda: f"topic{rng.randrange(TOPICS)} {rng.choice(WORDS)}"),
        )
        for (label, key), (kind, make) in itertools.product(
            (("anonymous (API key)", "bench"), ("user via nested groups", token)), kinds
        ):
            times, total, cpu = [], 0, time.process_time()
            for _ in range(args.searches):
                q = make()
                t0 = time.perf_counter()
                r = s.post(
                    f"{server.base_url}/rest/search/v2",
                    json={"q": q, "numberOfResults": 10},
                    headers={"Authorization": f"Bearer {key}"},
                )
                times.append((time.perf_counter() - t0) * 1000)
                r.raise_for_status()
                total += r.json()["totalCount"]
            times.sort()
            results[f"{kind} {label}"] = (
                statistics.median(times),
                times[int(len(times) * 0.95) - 1],
                total / args.searches,
                (time.process_time() - cpu) * 1000 / args.searches,
            )
        server.stop()
    if args.json:
        figures = {"items": args.items, "accepted_s": accepted, "applied_s": ingest, "items_per_s": args.items / ingest}
        figures["ingest_cpu_s"] = ingest_cpu
        figures["search"] = {
            k: {"p50": v[0], "p95": v[1], "avg_total": v[2], "cpu_ms": v[3]} for k, v in results.items()
        }
        print(json.dumps(figures))
        return
    print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"python {platform.python_version()}"
    )
    print(f"items: {args.items} in batches of {args.batch}")
    print(f"accepted (all 202s): {accepted:.1f} s; applied: {ingest:.1f} s -> {args.items / ingest:,.0f} items/s")
    print(f"ingest CPU (every thread of this process): {ingest_cpu:.1f} s")
    for label, (p50, p95, avg, cpu_ms) in results.items():
        print(f"search {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {cpu_ms:.1f} CPU ms, avg totalCount {avg:,.0f}")


if __name__ == "__main__":
    main()
