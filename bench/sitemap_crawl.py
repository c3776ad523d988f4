"""The ``sitemap`` connector against a bare Scrapy SitemapSpider on a static site served by nginx, side by side.

    python bench/sitemap_crawl.py [--pages 10000] [--rounds 1]

The site is generated in a temporary folder: ``--pages`` HTML pages of ~4 KB (a header with navigation, a
``<main>`` with a heading and paragraphs of varied words, a sidebar, a footer) and one ``sitemap.xml``
listing them with a ``lastmod``. It is served by our own nginx (``apt-get install nginx-light``): a config
in the temporary folder, bound to 127.0.0.1 on a free port, stopped by its pid. Both crawlers read the
sitemap and fetch every page at concurrency 16 with AutoThrottle off:

- bare: a SitemapSpider that parses each page with lxml and yields its title and main text, no pipelines;
- pushcrawl: ``pushcrawl crawl`` of a ``sitemap`` site with the full pipeline (extract → fields →
  permissions → changes → push) into the embedded local Push API, timed until the process exits.

Printed per round: pages, wall seconds, pages/s, CPU seconds and peak RSS of each, and the ratio of pages/s.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from crawlbench import HEADER, ROOT, bare_script, free_port, machine, row, timed, wait_port

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
target: local
targets:
  local: {{kind: local, data_dir: {work}/local-{n}}}
state_dir: {work}/state-{n}
sites:
  static:
    connector: sitemap
    options: {{sitemap_urls: ["{sitemap}"]}}
    scrapy: {{CONCURRENT_REQUESTS: 16, CONCURRENT_REQUESTS_PER_DOMAIN: 16, AUTOTHROTTLE_ENABLED: false}}
"""

NGINX = """
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp; fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;
    types {{ text/html html; application/xml xml; }}
    server {{ listen 127.0.0.1:{port}; root {site}; }}
}}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-sitemap-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's worker runs as another user: it must be able to read the site
        site, prefix = work / "site", work / "nginx"
        (site / "p").mkdir(parents=True)
        (prefix / "tmp").mkdir(parents=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        make_site(site, args.pages, base)
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX.format(prefix=prefix, port=port, site=site))
        server = subprocess.Popen([nginx_bin, "-c", str(conf), "-p", str(prefix)], stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            print(HEADER)
            for n in range(args.rounds):
                out = work / f"bare-{n}.txt"
                run = timed([sys.executable, bare_script(work, BARE), f"{base}/sitemap.xml", str(out)])
                if run.status != 0:
                    raise SystemExit(f"bare crawl failed:\n{run.stderr[-3000:]}")
                b = (int(out.read_text()), run.seconds, run.cpu_s, run.peak_mb)
                print(row(n, "bare", *b), flush=True)
                settings = work / f"settings-{n}.yaml"
                settings.write_text(SETTINGS.format(work=work, n=n, sitemap=f"{base}/sitemap.xml"))
                report = work / f"report-{n}.json"
                argv = [sys.executable, "-m", "crawler.cli", "crawl", "static", "--full", "--settings", str(settings)]
                run = timed([*argv, "--report", str(report), "--log-level", "WARNING"])
                if not report.exists():
                    raise SystemExit(f"pushcrawl failed:\n{run.stderr[-3000:]}")
                counts = json.loads(report.read_text())["counts"]
                if run.status != 0:
                    print(f"pushcrawl exited {run.status}: {counts}", flush=True)
                p = (int(counts["pushed"]), run.seconds, run.cpu_s, run.peak_mb)
                print(row(n, "pushcrawl", *p), flush=True)
                per_page = f"{p[2] / p[0] * 1000:.2f} ms vs {b[2] / b[0] * 1000:.2f} ms"
                ratio = (p[0] / p[1]) / (b[0] / b[1])
                print(f"{n:>5} pages/s pushcrawl / bare: {ratio:.2f}; CPU per page {per_page}", flush=True)
        finally:
            server.terminate()  # our own nginx master, by its pid: it stops its worker
            server.wait()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
