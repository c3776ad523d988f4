"""Benchmark of the Content Browser over a 100,000-item index: time every page, optionally screenshot it.

    .venv/bin/python bench/browser_pages.py [--items 100000] [--data tmp/bench-browser] [--repeat 20]
        [--screenshots DIR] [--old REF]

With ``--old REF`` (e.g. ``main``) the same pages are timed twice in one run, side by side: first served by
REF's code (``git archive`` into a temporary directory, a copy of the data directory, a fresh process with
that export first on ``PYTHONPATH``), then by this tree; the table gives both p95s and the ratio old/new
(above 1: this tree is faster), with the load average of each half.

The index is built once through the real Push API (batch file containers, as a crawler pushes) into
``--data`` and reused by later runs with the same ``--items``; a fake crawler state.sqlite with a few runs is
written next to it so the run pages have something to show. Each page is then fetched ``--repeat`` times
over HTTP with a logged-in session (cold first request reported apart) and p50/p95/max printed as a
Markdown table. With ``--screenshots``, headless Chromium saves a PNG of every page.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from crawler.indexing_log import IndexingLog
from crawler.ledger import SqliteLedger
from crawler.localapi import LocalPushAPI
from crawler.state import StateStore

VOCABULARY = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec "
    "romeo sierra tango uniform victor whiskey xray yankee zulu payroll invoice shoes shoe"
)
WORDS = VOCABULARY.split()
KEY = "bench-key"
ORG = "pushcrawl-local"


def item(i: int, rng: random.Random) -> dict[str, Any]:
    if i % 4 == 0:
        perms = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]
    else:
        perms = [
            {
                "name": "team",
                "allowAnonymous": False,
                "allowedPermissions": [{"identity": f"team-{i % 20}", "identityType": "Group"}],
                "deniedPermissions": [{"identity": "blocked@example.com", "identityType": "User"}],
            }
        ]
    # metadata with no field of its name (collected, not indexed) on some items, as real connectors send
    extra = {"revision": i % 9, "department": f"dept-{i % 5}"} if i % 10 == 0 else {}
    return extra | {
        "documentId": f"https://bench.test/doc/{i}",
        "title": f"Document {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
        "author": f"author{i % 50}",
        "filetype": ("html", "pdf", "txt", "docx")[i % 7 % 4],
        "language": ("English", "French", "German")[i % 3],
        "category": f"cat-{i % 12}",
        "data": " ".join(rng.choice(WORDS) for _ in range(60)),
        "permissions": perms,
    }


def build(data: Path, items: int) -> None:
    marker = data / f"built-{items}-v2"  # v2: items carry collected-only metadata
    if marker.exists():
        return
    server = LocalPushAPI(data, api_keys=[KEY])
    server.start()
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    org, push = f"{server.base_url}/rest/organizations/{ORG}", f"{server.base_url}/push/v1/organizations/{ORG}"
    src = s.post(f"{org}/sources", json={"name": "bench-docs", "sourceVisibility": "SECURED"}).json()["id"]
    s.post(f"{org}/sources", json={"name": "small-wiki", "sourceVisibility": "SHARED"})
    s.post(f"{org}/indexes/fields/batch/create", json=[{"name": "category", "type": "STRING", "facet": True}])
    s.put(f"{org}/securityproviders/bench-ids", json={"sources": [{"id": src}]})
    for body in (
        {"identity": {"name": "team-3", "type": "GROUP"}, "members": [{"name": "outer", "type": "GROUP"}]},
        {"identity": {"name": "outer", "type": "GROUP"}, "members": [{"name": "u1", "type": "USER"}]},
        {
            "identity": {"name": "u1", "type": "USER"},
            "mappings": [{"name": "u1@example.com", "type": "USER", "provider": "Email Security Provider"}],
        },
    ):
        path = "mappings" if "mappings" in body else "permissions"
        s.put(f"{push}/providers/bench-ids/{path}", json=body).raise_for_status()
    rng = random.Random(7)
    t0 = time.perf_counter()
    for start in range(0, items, 5000):
        docs = [item(i, rng) for i in range(start, min(start + 5000, items))]
        container = s.post(f"{push}/files").json()
        body = json.dumps({"addOrUpdate": docs}).encode()
        requests.put(container["uploadUri"], data=body, headers=container["requiredHeaders"]).raise_for_status()
        s.put(f"{push}/sources/{src}/documents/batch", params={"fileId": container["fileId"]}).raise_for_status()
    assert server.wait_idle(3600)
    print(f"built {items:,} items in {time.perf_counter() - t0:.0f} s")
    server.stop()
    marker.touch()


def history(data: Path, items: int) -> None:
    """A crawler state.sqlite with three runs, the second with failed items, a failed listing and items the
    index rejected, so the run pages have something to show."""
    marker = data / "history-v2"
    if marker.exists():
        return
    (data / "state.sqlite").unlink(missing_ok=True)
    state = StateStore(data / "state.sqlite")
    for n, status in enumerate(("finished", "failed", "finished")):
        run = state.start_run("local/bench", "bench", "full" if n == 0 else "incremental", 1000 + n, os.getpid())
        counts = {"fetched": items, "documents": items - 12, "pushed": items - 12, "acknowledged": items - 12}
        counts |= {"dropped": 12, "dropped/too_large": 4, "dropped/noindex": 8}
        if status == "failed":
            ledger = SqliteLedger(data / "state.sqlite", run)
            for i in range(140):
                ledger.record_error(f"https://bench.test/doc/{7 * i}", ("HTTP 500 from the site", "timed out")[i % 2])
            ledger.listing_failed("https://bench.test/sitemap-3.xml", "HTTP 503 after 3 retries")
            ledger.flush()
            counts |= {"errors": 141, "failed": 3}
        state.finish_run(run, status, counts, "" if status == "finished" else "HTTP 503 from the Push API")
    state.close()
    IndexingLog(data / "state.sqlite").close()  # its tables, created as a real run creates them
    with sqlite3.connect(data / "state.sqlite") as db:
        db.execute(
            "INSERT INTO indexing_runs VALUES (2, 'local/bench', ?, ?, 3, 20, ?, 2, 0)",
            (items - 12, items - 35, time.time()),
        )
        for i, reason in enumerate(("the document is too large", "unsupported file type", "permission set is empty")):
            db.execute(
                "INSERT INTO indexing_failures VALUES (2, ?, 'REJECTED', 'CONVERTING', ?, ?, 0)",
                (f"https://bench.test/doc/{11 * i + 5}", reason, time.time()),
            )
    marker.touch()


def pages(base: str, src: str) -> dict[str, str]:
    return {
        "Sources": "/",
        "Source, page 1": f"/browse/sources/{src}",
        "Source, page 500 sorted by title": f"/browse/sources/{src}?page=500&sort=title",
        "Source, filtered by 2 facets": f"/browse/sources/{src}?f=filetype:pdf&f=category:cat-3",
        "Source, 2 facets, page 40": f"/browse/sources/{src}?f=filetype:pdf&f=category:cat-3&page=40",
        "Source, aq @filetype==pdf, by title": f"/browse/sources/{src}?aq=%40filetype%3D%3Dpdf&sort=title",
        "Source facets (summary request)": f"/browse/sources/{src}/summary",
        "Filtered facets (summary request)": f"/browse/sources/{src}/summary?f=filetype:pdf&f=category:cat-3",
        "Item (why can u1 see it)": f"/browse/item?source={src}&documentId=https://bench.test/doc/63&user=u1%40example.com",
        "Item (why can't a blocked user see it)": f"/browse/item?source={src}&documentId=https://bench.test/doc/63"
        "&user=blocked%40example.com",
        "Search anonymous, page 3": "/browse/search?q=payroll&page=3",
        "Search as user (nested groups)": "/browse/search?q=payroll+invoice&user=u1%40example.com",
        "Search aq @filetype==pdf as user": "/browse/search?aq=%40filetype%3D%3Dpdf&user=u1%40example.com",
        "Identities": "/browse/identities",
        "Activity log": "/browse/activity",
        "Fields": "/browse/fields",
        "Runs": "/browse/runs",
        "Run (failures, rejections)": "/browse/runs/2",
        "Run, rejected items only": "/browse/runs/2?kind=rejected",
    }


def measure(base: str, session: requests.Session, path: str, repeat: int) -> tuple[float, float, float, float]:
    times = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        r = session.get(base + path, timeout=60)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    cold, warm = times[0], sorted(times[1:])
    return cold, statistics.median(warm), warm[int(len(warm) * 0.95) - 1], warm[-1]


def screenshots(base: str, targets: dict[str, str], out: Path) -> None:
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-sync",
        "--disable-background-networking",
        "--disable-component-update",
        "--window-size=1360,1100",
        f"--user-data-dir={out / '.chromium'}",
    ):
        options.add_argument(flag)
    drv = webdriver.Chrome(options=options, service=webdriver.ChromeService("/usr/bin/chromedriver"))
    try:
        drv.get(base + "/login")
        drv.save_screenshot(str(out / "00-login.png"))
        drv.find_element("name", "key").send_keys(KEY)
        drv.find_element("css selector", "form.login button").click()
        time.sleep(0.3)
        for n, (label, path) in enumerate(targets.items(), 1):
            if "/summary" in path:  # a fragment the source page puts in place, not a page of its own
                continue
            drv.get(base + path)
            time.sleep(1.0)  # the source page fetches its facets after load
            name = f"{n:02d}-" + "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-") + ".png"
            drv.save_screenshot(str(out / name))
    finally:
        drv.quit()


def serve_and_measure(args: argparse.Namespace) -> dict[str, Any]:
    """Start the server over ``args.data``, wait until it is searchable, time every page; the figures."""
    server = LocalPushAPI(args.data, api_keys=[KEY], state_db=args.data / "state.sqlite")
    server.start()
    try:
        t0 = time.perf_counter()
        assert server.wait_idle(3600)  # a data directory from another version re-indexes on open
        base = server.base_url
        s = requests.Session()
        r = s.post(base + "/login", data={"key": KEY}, allow_redirects=False, timeout=10)
        assert r.status_code == 303, r.text
        src = s.get(f"{base}/local/status", headers={"Authorization": f"Bearer {KEY}"}).json()
        src_id = max(src["items"], key=lambda k: src["items"][k])
        targets = pages(base, src_id)
        out: dict[str, Any] = {"items": sum(src["items"].values()), "reindex_s": time.perf_counter() - t0}
        out["load_before"], out["pages"] = os.getloadavg()[0], {}
        for label, path in targets.items():
            out["pages"][label] = measure(base, s, path, args.repeat)
            if not args.json:
                cold, p50, p95, top = out["pages"][label]
                print(f"| {label} | {cold:.0f} | {p50:.0f} | {p95:.0f} | {top:.0f} |", flush=True)
        out["load_after"] = os.getloadavg()[0]
        if args.screenshots:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            screenshots(base, targets, args.screenshots)
        return out
    finally:
        server.stop()


def side_by_side(args: argparse.Namespace) -> None:
    """Time the pages with ``args.old``'s code and this tree's, one after the other; print the ratios."""
    root = Path(__file__).resolve().parent.parent
    old_data = args.data.with_name(args.data.name + "-old")
    if not (old_data / f"built-{args.items}-v2").exists():
        shutil.rmtree(old_data, ignore_errors=True)
        shutil.copytree(args.data, old_data)  # each version keeps its own search index
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        commit = subprocess.run(["git", "rev-parse", "--short", args.old], cwd=root, capture_output=True, text=True)
        archive = subprocess.run(["git", "archive", args.old], cwd=root, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for side, code, data in (("old", Path(tmp), old_data), ("new", root, args.data)):
            cmd = [sys.executable, str(root / "bench" / "browser_pages.py"), "--json", "--data", str(data.resolve())]
            cmd += ["--items", str(args.items), "--repeat", str(args.repeat)]
            env = dict(os.environ, PYTHONPATH=str(code))
            done = subprocess.run(cmd, env=env, cwd=code, capture_output=True, text=True, check=True)
            figures[side] = json.loads(done.stdout.strip().splitlines()[-1])
    old, new = figures["old"], figures["new"]
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs; index: {new['items']:,} items")
    print(
        f"old = {args.old} ({commit.stdout.strip()}), load {old['load_before']:.1f}->{old['load_after']:.1f}; ", end=""
    )
    print(f"new = this tree, load {new['load_before']:.1f}->{new['load_after']:.1f}\n")
    print("| Page | old cold | old p95 | new cold | new p95 | p95 old/new |\n|---|---:|---:|---:|---:|---:|")
    for label, (ocold, _, op95, _) in old["pages"].items():
        ncold, _, np95, _ = new["pages"][label]
        print(f"| {label} | {ocold:.0f} | {op95:.0f} | {ncold:.0f} | {np95:.0f} | {op95 / np95:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--data", type=Path, default=Path("tmp/bench-browser"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--screenshots", type=Path, default=None)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--old", default=None, help="git ref to time side by side with this tree (e.g. main)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()
    build(args.data, args.items)
    history(args.data, args.items)
    if args.build_only:
        return
    if args.old:
        side_by_side(args)
        return
    if not args.json:
        print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load before {os.getloadavg()[0]:.2f}\n")
        print("| Page | cold ms | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|")
    out = serve_and_measure(args)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"\nindex: {out['items']:,} items; load after {out['load_after']:.2f}")


if __name__ == "__main__":
    main()
