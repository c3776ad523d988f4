"""The ``sitemap`` connector against a bare Scrapy SitemapSpider on a static site served by nginx, side by side.

    python bench/sitemap_crawl.py [--pages 10000] [--rounds 1] [--arms local,thread,serve]

The site is generated in a temporary folder: ``--pages`` HTML pages of ~4 KB (a header with navigation, a
``<main>`` with a heading and paragraphs of varied words, a sidebar, a footer) and one ``sitemap.xml``
listing them with a ``lastmod``. It is served by our own nginx (``apt-get install nginx-light``): a config
in the temporary folder, bound to 127.0.0.1 on a free port, stopped by its pid. Both crawlers read the
sitemap and fetch every page at concurrency 16 with AutoThrottle off:

- bare: a SitemapSpider that parses each page with lxml and yields its title and main text, no pipelines;
- pushcrawl: ``pushcrawl crawl`` of a ``sitemap`` site with the full pipeline (extract → fields →
  permissions → changes → push), timed until the process exits (every batch acknowledged), in up to three
  arms (``--arms``): ``local``, the default ``kind: local`` target a user gets (the local Push API in a
  child process the crawl starts and stops); ``thread``, the same target with ``process: thread`` (the
  local Push API in a thread of the crawl, sharing its GIL: the default before); ``serve``, a ``kind: coveo``
  target pointing at a separate ``pushcrawl serve`` (as a crawl pushes to Coveo, the ingest on another
  machine). Its CPU is counted beside the crawl's, read until it has applied and indexed everything.

Printed per round: pages, wall seconds, pages/s, CPU seconds (every process involved: the crawl, its local
Push API child or the ``serve`` process; nginx's are not counted on either side) with the crawl process's
own share, peak RSS, and the ratio of pages/s to the bare spider's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from crawlbench import (
    HEADER,
    ROOT,
    Run,
    bare_script,
    free_port,
    machine,
    proc_cpu_s,
    row,
    start_nginx,
    timed,
    wait_port,
)

BARE = """
import sys
import lxml.html
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider

class Bare(SitemapSpider):
    name = "bare"
    sitemap_urls = [sys.argv[1]]
    count = 0

    def parse(self, response):
        Bare.count += 1
        tree = lxml.html.fromstring(response.body)
        main = tree.find(".//main")
        yield {"url": response.url, "title": tree.findtext(".//title"),
               "text": (main if main is not None else tree).text_content()}

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
                          "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False,
                          "REMOTE_CONTROL_ENABLED": False})
process.crawl(Bare)
process.start()
open(sys.argv[2], "w").write(str(Bare.count))
"""

SETTINGS = """
target: {target}
targets:
  local: {{kind: local, data_dir: {work}/local-{arm}-{n}, process: {process}}}
  serve: {{kind: coveo, base_url: "{serve}", platform_url: "{serve}", organization_id: pushcrawl-local,
          api_key: "${{BENCH_SERVE_KEY}}", source: static}}
state_dir: {work}/state-{arm}-{n}
sites:
  static:
    connector: sitemap
    options: {{sitemap_urls: ["{sitemap}"]}}
    scrapy: {{CONCURRENT_REQUESTS: 16, CONCURRENT_REQUESTS_PER_DOMAIN: 16, AUTOTHROTTLE_ENABLED: false}}
"""

WORDS = [
    "harbour",
    "tide",
    "ledger",
    "budget",
    "council",
    "ferry",
    "lantern",
    "orchard",
    "quarry",
    "meadow",
    "signal",
    "archive",
    "river",
    "bridge",
    "timber",
    "copper",
    "valley",
    "beacon",
    "market",
    "garden",
    "station",
    "library",
    "winter",
    "summer",
    "festival",
    "journey",
]


def make_site(site: Path, pages: int, base: str) -> None:
    rng = random.Random(7)
    nav = "".join(f'<li><a href="/p/{i}.html">Section {i}</a></li>' for i in range(12))
    urls = []
    for i in range(pages):
        paras = "".join(f"<p>{' '.join(rng.choices(WORDS, k=60))}.</p>" for _ in range(6))
        (site / "p" / f"{i}.html").write_text(
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Page {i}</title>"
            f'<meta name="description" content="Page {i} of the bench site"></head><body>'
            f"<header><nav><ul>{nav}</ul></nav></header><main><h1>Page {i}</h1>{paras}</main>"
            f"<aside>Related: {' '.join(rng.choices(WORDS, k=12))}</aside><footer>All rights reserved</footer>"
            "</body></html>"
        )
        urls.append(f"<url><loc>{base}/p/{i}.html</loc><lastmod>2025-03-14</lastmod></url>")
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(urls)
        + "</urlset>"
    )


class Serve:
    """A ``pushcrawl serve`` on its own data folder, for the ``serve`` arm (started and stopped by its pid)."""

    def __init__(self, work: Path, n: int) -> None:
        self.key = secrets.token_urlsafe(24)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "crawler.cli",
            "serve",
            "--port",
            str(self.port),
            "--data",
            str(work / f"serve-{n}"),
        ]
        env = {**os.environ, "PUSHCRAWL_LOCAL_API_KEYS": self.key}
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.cpu_at_start = proc_cpu_s(self.proc.pid)

    def wait_applied(self, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ask = urllib.request.Request(f"{self.url}/local/status", headers={"Authorization": f"Bearer {self.key}"})
            with urllib.request.urlopen(ask, timeout=10) as answer:
                if json.load(answer)["pending"] == 0:
                    return
            time.sleep(0.2)
        raise SystemExit(f"pushcrawl serve still had work pending after {timeout} s")

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid) - self.cpu_at_start

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def crawl(work: Path, n: int, arm: str, sitemap: str) -> tuple[int, Run, float]:
    """One pushcrawl arm: (documents pushed, the crawl's run, CPU seconds of a ``serve`` process)."""
    serve = Serve(work, n) if arm == "serve" else None
    target = "serve" if serve else "local"
    settings = work / f"settings-{arm}-{n}.yaml"
    settings.write_text(
        SETTINGS.format(
            work=work,
            n=n,
            arm=arm,
            sitemap=sitemap,
            target=target,
            serve=serve.url if serve else "",
            process="thread" if arm == "thread" else "child",
        )
    )
    env = {**os.environ, "BENCH_SERVE_KEY": serve.key if serve else "unused"}
    cli = [sys.executable, "-m", "crawler.cli"]
    try:
        if serve:  # a coveo-kind target finds its source by name: create it first (not timed)
            create = [*cli, "sources", "create", "static", "--target", "serve", "--settings", str(settings)]
            subprocess.run(create, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        report = work / f"report-{arm}-{n}.json"
        argv = [*cli, "crawl", "static", "--full", "--settings", str(settings), "--report", str(report)]
        run = timed([*argv, "--log-level", "WARNING"], env=env)
        if not report.exists():
            raise SystemExit(f"pushcrawl ({arm}) failed:\n{run.stderr[-3000:]}")
        counts = json.loads(report.read_text())["counts"]
        if run.status != 0:
            print(f"pushcrawl ({arm}) exited {run.status}: {counts}", flush=True)
        serve_cpu = 0.0
        if serve:
            serve.wait_applied()
            serve_cpu = serve.cpu_s()
        return int(counts["pushed"]), run, serve_cpu
    finally:
        if serve:
            serve.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--arms", default="local,thread,serve", help="pushcrawl arms: local, thread, serve")
    args = parser.parse_args()
    arms = [a for a in args.arms.split(",") if a]
    if not arms or set(arms) - {"local", "thread", "serve"}:
        raise SystemExit("--arms: a comma-separated list of local, thread, serve")
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-sitemap-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's worker runs as another user: it must be able to read the site
        site, prefix = work / "site", work / "nginx"
        (site / "p").mkdir(parents=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        make_site(site, args.pages, base)
        server = start_nginx(prefix, port, site)
        try:
            wait_port(port)
            print(HEADER + "   CPU s: crawl process's own / others (local API child or serve)")
            for n in range(args.rounds):
                out = work / f"bare-{n}.txt"
                run = timed([sys.executable, bare_script(work, BARE), f"{base}/sitemap.xml", str(out)])
                if run.status != 0:
                    raise SystemExit(f"bare crawl failed:\n{run.stderr[-3000:]}")
                b = (int(out.read_text()), run.seconds, run.cpu_s, run.peak_mb)
                print(row(n, "bare", *b), flush=True)
                for arm in arms:
                    pushed, run, serve_cpu = crawl(work, n, arm, f"{base}/sitemap.xml")
                    others = run.child_cpu_s + serve_cpu
                    p = (pushed, run.seconds, run.cpu_s + serve_cpu, run.peak_mb + run.child_peak_mb)
                    split = f"   {run.cpu_s - run.child_cpu_s:.1f} / {others:.1f}"
                    print(row(n, f"pc-{arm}", *p) + split, flush=True)
                    per_page = f"{p[2] / p[0] * 1000:.2f} ms vs {b[2] / b[0] * 1000:.2f} ms"
                    ratio = (p[0] / p[1]) / (b[0] / b[1])
                    own = (run.cpu_s - run.child_cpu_s) / p[0] * 1000
                    print(
                        f"{n:>5} pages/s pc-{arm} / bare: {ratio:.2f}; CPU per page {per_page} "
                        f"(crawl process alone {own:.2f} ms)",
                        flush=True,
                    )
        finally:
            server.terminate()  # our own nginx master, by its pid: it stops its worker
            server.wait()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
