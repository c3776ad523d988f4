"""Benchmark of the push path: documents/s, Push API requests per 10,000 documents, peak RSS, 1k → 100k docs.

    .venv/bin/python bench/push_throughput.py [--counts 1000,10000,100000] [--size 5000]

Runs ``pushcrawl serve`` in its own process and, for each count, a real ``pushcrawl crawl`` of the synthetic
connector (tests/helpers/synthetic.py, ``size``-byte text documents) against it as a ``kind: coveo`` target
with ``base_url`` — what an external user would run. Measured per run, side by side:

- bare Scrapy: the same spider yielding the same items with no pipelines (the ceiling of the crawl side);
- full pipeline: extract → fields → permissions → changes → push, timed until the crawl exits, i.e. until
  every batch was acknowledged (202) by the server;
- applied: until the server reports nothing pending (its own indexing speed, not the crawler's);
- CPU time per document of the crawl process and of the server (the machine may be shared: CPU per
  document is the figure that does not depend on what else runs);
- Push API requests made (from the run report) and the crawl process's RSS, sampled every 0.25 s: the median
  (the steady state while pushing) and the peak.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ORG = "pushcrawl-local"
BARE = """
import sys, time
sys.path.insert(0, {root!r})
from scrapy.crawler import CrawlerProcess
from tests.helpers.synthetic import SyntheticConnector
opts = SyntheticConnector.Options(count={count}, size={size})
process = CrawlerProcess({{"LOG_LEVEL": "ERROR", "ITEM_PIPELINES": {{}}, "REMOTE_CONTROL_ENABLED": False,
                           "TELNETCONSOLE_ENABLED": False}})
process.crawl(SyntheticConnector, options=opts)
process.start()
"""


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a live process has used (/proc/<pid>/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, int, float]:
    """(seconds, peak RSS MB, median RSS MB while running, exit status, CPU seconds) of one child process."""
    cpu_before = _children_cpu_s()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples: list[float] = []
    errors: list[bytes] = []
    # drain stderr on a thread so a chatty child never blocks on a full pipe while RSS is sampled here
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""))
    reader.start()
    while proc.poll() is None:
        if (rss := _rss_mb(proc.pid)) is not None:
            samples.append(rss)
        time.sleep(0.25)
    reader.join()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(b"".join(errors).decode(errors="replace")[-3000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # max over children so far
    cpu = _children_cpu_s() - cpu_before
    return elapsed, max([*samples, 0.0]) or peak, statistics.median(samples or [0.0]), proc.returncode, cpu


def wait_applied(base: str, key: str, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    auth = {"Authorization": f"Bearer {key}"}  # /local/status needs a key when the server has keys
    while time.monotonic() < deadline:
        if requests.get(f"{base}/local/status", headers=auth, timeout=10).json().get("pending", 1) == 0:
            return
        time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", default="1000,10000,100000")
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--port", type=int, default=18931)
    args = ap.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    key = "bench-" + secrets.token_hex(12)
    base = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "BENCH_KEY": key, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="push-bench-") as tmp:
        work = Path(tmp)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler.cli",
                "serve",
                "--port",
                str(args.port),
                "--data",
                str(work / "index"),
                "--api-key",
                key,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    requests.get(f"{base}/local/status", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            # one document: the fixed cost of a crawl process (start, ping, open target, close)
            fixed = run_one(work, base, key, env, 1, args.size, server.pid)
            rows = [run_one(work, base, key, env, n, args.size, server.pid, fixed["push_s"]) for n in counts]
        finally:
            server.terminate()
            server.wait(30)
    print(machine())
    print(f"load average before/after: {load_before} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"\n{args.size:,}-byte text documents, pushcrawl serve on 127.0.0.1 as a kind: coveo target\n")
    print(f"fixed cost of one crawl process (start, ping, open target, close): {fixed['push_s']:.1f} s")
    header = (
        "documents",
        "bare Scrapy docs/s",
        "pipeline docs/s",
        "pipeline/bare",
        "pipeline docs/s w/o fixed cost",
        "applied docs/s",
        "crawl CPU ms/doc",
        "server CPU ms/doc",
        "requests/10k docs",
        "RSS MB crawl median",
        "RSS MB crawl peak",
        "RSS MB bare peak",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for r in rows:
        print(
            f"| {r['n']:,} | {r['bare']:,.0f} | {r['push']:,.0f} | {r['push'] / r['bare']:.2f} | "
            f"{r['steady']:,.0f} | "
            f"{r['applied']:,.0f} | {r['crawl_cpu_ms']:.2f} | {r['server_cpu_ms']:.2f} | "
            f"{r['requests_per_10k']:.1f} | {r['rss_median']:.0f} | {r['rss']:.0f} | "
            f"{r['bare_rss']:.0f} |"
        )


def run_one(
    work: Path, base: str, key: str, env: dict[str, str], n: int, size: int, server_pid: int, fixed_s: float = 0.0
) -> dict[str, float]:
    source = f"bench{n}"
    requests.post(
        f"{base}/rest/organizations/{ORG}/sources",
        json={"name": source, "sourceType": "PUSH", "sourceVisibility": "SHARED"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    settings = work / f"settings-{n}.yaml"
    settings.write_text(f"""
target: bench
targets:
  bench: {{kind: coveo, base_url: "{base}", platform_url: "{base}", organization_id: {ORG},
          source: {source}, api_key: "${{BENCH_KEY}}"}}
state_dir: state-{n}
sites:
  synth:
    connector: "tests.helpers.synthetic:SyntheticConnector"
    options: {{count: {n}, size: {size}}}
""")
    bare_s, bare_rss, _, _, _ = timed([sys.executable, "-c", BARE.format(root=str(ROOT), count=n, size=size)], env)
    report = work / f"report-{n}.json"
    started = time.perf_counter()
    crawl = [
        sys.executable,
        "-m",
        "crawler.cli",
        "crawl",
        "synth",
        "--settings",
        str(settings),
        "--report",
        str(report),
        "--log-level",
        "WARNING",
    ]
    server_cpu = _cpu_s(server_pid)
    push_s, rss, rss_median, code, crawl_cpu = timed(crawl, env)
    wait_applied(base, key)
    server_cpu = _cpu_s(server_pid) - server_cpu
    applied_s = time.perf_counter() - started
    data = json.loads(report.read_text())
    assert code == 0 and data["counts"]["pushed"] == n, data
    return {
        "n": n,
        "push_s": push_s,
        "steady": n / max(push_s - fixed_s, 1e-3),
        "bare": n / bare_s,
        "push": n / push_s,
        "applied": n / applied_s,
        "rss": rss,
        "rss_median": rss_median,
        "bare_rss": bare_rss,
        "crawl_cpu_ms": crawl_cpu * 1000 / n,
        "server_cpu_ms": server_cpu * 1000 / n,
        "requests_per_10k": data["extra"]["push_requests"] * 10_000 / n,
    }


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    return (
        f"machine: {os.cpu_count()} CPU ({cpu}), {int(mem) // 1024 // 1024} GB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


if __name__ == "__main__":
    main()
