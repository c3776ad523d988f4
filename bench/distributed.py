"""Scaling out, side by side in one run: pages/s with 1, 2 and 4 workers on a latency-bound site, the Redis
memory of the dupefilter and seen-id set per million URLs, and each worker's peak RSS.

    python bench/distributed.py [--pages 400] [--delay 0.3] [--concurrency 2] [--workers 1,2,4]

The site is tests/fixtures/sitemap_site.py with ``delay`` seconds added to every page, and each worker's
Scrapy concurrency is capped (``CONCURRENT_REQUESTS``), so one worker is bound by latency, not by the two
cores: the ideal is N times the rate with N workers. Each point is a real ``pushcrawl crawl --full --workers N``
(coordinator + N worker processes) against a throw-away Redis and the local Push API as a ``kind: coveo``
target. The crawl rate is measured from the site's side — pages served between the first and the last page
request — so process start-up (seconds, on a loaded machine) is reported apart, in the wall time.

Memory: ``--urls`` fingerprints made by scrapy-redis' own RFPDupeFilter (and as many document ids added to a
set, as the run ledger's ``seen`` does) in a fresh Redis, read with ``MEMORY USAGE``, scaled to a million.
Worker RSS: the highest VmRSS sampled every 0.2 s of each worker process (pids from the run's Redis keys).
Prints Markdown, with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from scrapy import Request

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.localapi import LocalPushAPI  # noqa: E402
from tests.fixtures.redis_server import RedisServer  # noqa: E402
from tests.fixtures.sitemap_site import SitemapSite  # noqa: E402

ORG, KEY = "pushcrawl-local", "bench-key-distributed"


class TimedSite(SitemapSite):
    """The fixture site, remembering when each page request arrived."""

    def __init__(self, pages: int) -> None:
        super().__init__(pages=pages, parts=4)
        self.page_times: list[float] = []

    def handle(self, request: Any) -> Any:
        if request.path.startswith("/pages/"):
            with self._lock:
                self.page_times.append(time.monotonic())
        return super().handle(request)


def settings_text(api: str, sitemap: str, redis_url: str, concurrency: int) -> str:
    return f"""
target: idx
targets:
  idx: {{kind: coveo, base_url: "{api}", platform_url: "{api}", organization_id: {ORG}, source: bench,
         api_key: "${{BENCH_KEY}}"}}
state_dir: state
distributed: {{redis_url: "{redis_url}", heartbeat_s: 0.5}}
sites:
  cms:
    connector: sitemap
    options: {{sitemap_urls: ["{sitemap}"]}}
    scrapy: {{CONCURRENT_REQUESTS: {concurrency}, CONCURRENT_REQUESTS_PER_DOMAIN: {concurrency},
              AUTOTHROTTLE_ENABLED: false, DOWNLOAD_DELAY: 0}}
"""


def sample_rss(redis_server: RedisServer, stop: threading.Event, peaks: dict[int, int]) -> None:
    client = redis_server.client()
    while not stop.wait(0.2):
        pids: set[int] = set()
        for key in client.scan_iter(match="pushcrawl:*:workers"):
            pids |= {json.loads(v)["pid"] for v in client.hvals(key)}
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))


def one_point(tmp: Path, site: TimedSite, redis_server: RedisServer, workers: int) -> dict[str, Any]:
    site.page_times.clear()
    peaks: dict[int, int] = {}
    stop = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(redis_server, stop, peaks), daemon=True)
    sampler.start()
    started = time.monotonic()
    report = tmp / f"report-{workers}.json"
    argv = [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        "cms",
        "--full",
        "--workers",
        str(workers),
        "-q",
        "--settings",
        str(tmp / "settings.yaml"),
        "--report",
        str(report),
    ]
    env = {**os.environ, "BENCH_KEY": KEY, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    if done.returncode != 0:
        raise SystemExit(f"--workers {workers} failed:\n{done.stderr[-3000:]}")
    rep = json.loads(report.read_text())
    times = sorted(site.page_times)
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    return {
        "workers": workers,
        "pages": len(times),
        "pushed": rep["counts"]["pushed"],
        "span_s": span,
        "rate": (len(times) - 1) / span,
        "wall_s": wall,
        "rss_mb": sorted(round(kb / 1024) for kb in peaks.values()),
        "per_worker": [w.get("fetched", 0) for w in rep["extra"]["workers"].values()],
    }


def redis_memory(urls: int) -> dict[str, float]:
    from scrapy_redis.dupefilter import RFPDupeFilter

    with RedisServer() as server:
        client = server.client()
        dupefilter = RFPDupeFilter(client, key="bench:dupefilter")
        pipe = client.pipeline(transaction=False)
        for n in range(urls):
            url = f"https://intranet.example.com/section-{n % 97}/page-{n}.html"
            pipe.sadd("bench:dupefilter", dupefilter.request_fingerprint(Request(url)))
            pipe.sadd("bench:seen", url)
            if n % 10_000 == 9_999:
                pipe.execute()
        pipe.execute()
        per_million = 1_000_000 / urls / 1e6
        return {
            "dupefilter_mb": client.memory_usage("bench:dupefilter", samples=0) * per_million,
            "seen_mb": client.memory_usage("bench:seen", samples=0) * per_million,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--urls", type=int, default=200_000)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pushcrawl-bench-dist-") as name:
        tmp = Path(name)
        site = TimedSite(args.pages).start()
        site.delay = args.delay
        api = LocalPushAPI(tmp / "index", org_id=ORG, api_keys=[KEY], queue_delay_scale=0.0)
        api.start()
        redis_server = RedisServer().start()
        try:
            requests.post(
                f"{api.base_url}/rest/organizations/{ORG}/sources",
                json={"sourceType": "PUSH", "pushEnabled": True, "name": "bench", "sourceVisibility": "SHARED"},
                headers={"Authorization": f"Bearer {KEY}"},
                timeout=10,
            ).raise_for_status()
            text = settings_text(api.base_url, site.sitemap_url, redis_server.url, args.concurrency)
            (tmp / "settings.yaml").write_text(text)
            points = [one_point(tmp, site, redis_server, int(n)) for n in args.workers.split(",")]
        finally:
            redis_server.stop()
            api.stop()
            site.stop()
    memory = redis_memory(args.urls)
    load_after = os.getloadavg()
    base = points[0]["rate"]
    print(f"site: {args.pages} pages, +{args.delay}s each; CONCURRENT_REQUESTS={args.concurrency} per worker")
    print(
        f"load average before {load_before[0]:.1f} / {load_before[1]:.1f}, after {load_after[0]:.1f} / "
        f"{load_after[1]:.1f} (1 / 5 min), {os.cpu_count()} CPUs\n"
    )
    print(
        "| workers | pages | crawl span s | pages/s | vs 1 worker | wall s (incl. start-up) | pages per worker "
        "| peak RSS per worker MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---|")
    for p in points:
        print(
            f"| {p['workers']} | {p['pages']} | {p['span_s']:.1f} | {p['rate']:.1f} | {p['rate'] / base:.2f} | "
            f"{p['wall_s']:.1f} | {p['per_worker']} | {p['rss_mb']} |"
        )
    print(
        f"\nRedis, per million URLs ({args.urls:,} measured): dupefilter set {memory['dupefilter_mb']:.0f} MB, "
        f"seen-id set {memory['seen_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
