"""The ``web`` connector against a bare Scrapy CrawlSpider on a real documentation site, side by side.

    python bench/web_crawl.py [--site /usr/share/doc/python3.11/html] [--rounds 2]

The site is Python 3.11's documentation as Debian packages it (``apt-get install python3.11-doc``: 530
Sphinx pages whose content is marked ``role="main"``), served by ``python3 -m http.server`` on 127.0.0.1.
``--site /usr/share/doc/python-django-doc/html`` (``python-django-doc``: 692 pages, a theme with no
``<main>``, ``role="main"`` or ``<article>``) measures the other case: every page through trafilatura.

Both crawlers start at ``index.html``, follow every link on the host, at concurrency 16 with AutoThrottle
off and robots.txt not asked for:

- bare: a CrawlSpider (one Rule, default LinkExtractor) yielding title + body text, no pipelines;
- pushcrawl: ``pushcrawl crawl`` of a ``web`` site with the full pipeline (extract → fields → permissions →
  changes → push) into the embedded local Push API, timed until the process exits (every batch acknowledged).

Printed per round: pages, wall seconds, pages/s, CPU seconds and peak RSS of each, and the ratio of pages/s.
Rounds alternate the two so that a change in the machine's load falls on both.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from crawlbench import HEADER, ROOT, bare_script, free_port, machine, row, timed, wait_port

BARE = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

class Bare(CrawlSpider):
    name = "bare"
    start_urls = [sys.argv[1]]
    allowed_domains = ["127.0.0.1"]
    rules = (Rule(LinkExtractor(), callback="parse_item", follow=True),)
    count = 0

    def parse_start_url(self, response):
        return self.parse_item(response)

    def parse_item(self, response):
        Bare.count += 1
        yield {"url": response.url, "title": response.xpath("normalize-space(//title)").get(),
               "text": " ".join(response.xpath("//body//text()[not(ancestor::script)]").getall())}

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
                          "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False,
                          "REMOTE_CONTROL_ENABLED": False})
process.crawl(Bare)
process.start()
open(sys.argv[2], "w").write(str(Bare.count))
"""

SETTINGS = """
target: local
targets:
  local: {{kind: local, data_dir: {work}/local-{n}}}
state_dir: {work}/state-{n}
sites:
  docs:
    connector: web
    options: {{start_urls: ["{start}"], max_depth: 50, obey_robots: false, autothrottle: false}}
    scrapy: {{CONCURRENT_REQUESTS: 16, CONCURRENT_REQUESTS_PER_DOMAIN: 16}}
"""


def bare(work: Path, start: str, n: int) -> tuple[int, float, float, float]:
    out = work / f"bare-{n}.txt"
    run = timed([sys.executable, bare_script(work, BARE), start, str(out)])
    if run.status != 0:
        raise SystemExit(f"bare crawl failed:\n{run.stderr[-3000:]}")
    pages = int(out.read_text())
    return pages, run.seconds, run.cpu_s, run.peak_mb


def pushcrawl(work: Path, start: str, n: int) -> tuple[int, float, float, float]:
    settings = work / f"settings-{n}.yaml"
    settings.write_text(SETTINGS.format(work=work, n=n, start=start))
    report = work / f"report-{n}.json"
    argv = [sys.executable, "-m", "crawler.cli", "crawl", "docs", "--full", "--settings", str(settings)]
    run = timed([*argv, "--report", str(report), "--log-level", "WARNING"])
    if not report.exists():
        raise SystemExit(f"pushcrawl failed:\n{run.stderr[-3000:]}")
    counts = json.loads(report.read_text())["counts"]
    if run.status != 0:  # e.g. a page timing out on an overloaded machine: still measured, and said
        print(f"pushcrawl exited {run.status}: {counts}", flush=True)
    return int(counts["pushed"]), run.seconds, run.cpu_s, run.peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=Path("/usr/share/doc/python3.11/html"))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if not (args.site / "index.html").is_file():
        raise SystemExit(f"{args.site}/index.html not found: apt-get install python3.11-doc, or pass --site")
    print(machine(), flush=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(args.site), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        start = f"http://127.0.0.1:{port}/index.html"
        with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
            work = Path(tmp)
            print(HEADER)
            for n in range(args.rounds):
                b = bare(work, start, n)
                print(row(n, "bare", *b), flush=True)
                p = pushcrawl(work, start, n)
                print(row(n, "pushcrawl", *p), flush=True)
                ratio = (p[0] / p[1]) / (b[0] / b[1])
                per_page = f"{p[2] / p[0] * 1000:.1f} ms vs {b[2] / b[0] * 1000:.1f} ms"
                print(f"{n:>5} pages/s pushcrawl / bare: {ratio:.2f}; CPU per page {per_page}", flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
