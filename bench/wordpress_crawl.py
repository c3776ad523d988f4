"""The ``wordpress`` connector against a bare spider paging the same REST API of a real WordPress, side by side.

    python bench/wordpress_crawl.py [--posts 1000] [--rounds 1]

The site is the real-CMS test bed (tests/realcms/wordpress/bed.py: Debian's ``wordpress`` on nginx, php-fpm
and a private MariaDB), in its own runtime directory (``/tmp/pushcrawl-bench-wordpress``, not the tests'),
topped up to ``--posts`` published posts of ~3 KB by bench/wordpress_bulk.php (once; later runs reuse it).
Both crawlers read ``/wp-json/wp/v2/posts`` and ``/wp-json/wp/v2/pages`` anonymously, 100 per page with
``_embed=author,wp:term``, every page of the listing at concurrency 16, AutoThrottle off:

- bare: a Spider that reads ``X-WP-TotalPages``, asks for every page, and yields each post's title and the
  text of its rendered content (lxml), no pipelines;
- pushcrawl: ``pushcrawl crawl`` of a ``wordpress`` site (media off: the bare spider downloads no files) with
  the full pipeline into the embedded local Push API, timed until the process exits.

Printed per round: items, wall seconds, items/s, CPU seconds and peak RSS of each, and the ratios. The bed
stays running afterwards (``python -m tests.realcms.wordpress.bed stop`` with the same
``PUSHCRAWL_REALCMS_DIR`` stops it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from crawlbench import HEADER, ROOT, bare_script, machine, row, timed

BED_DIR = "/tmp/pushcrawl-bench-wordpress"

BARE = """
import json, sys
import lxml.html
import scrapy
from scrapy.crawler import CrawlerProcess

class Bare(scrapy.Spider):
    name = "bare"
    count = 0
    api = sys.argv[1].rstrip("/") + "/wp-json/wp/v2/"

    def url(self, base, page):
        return f"{self.api}{base}?per_page=100&orderby=id&order=asc&_embed=author,wp:term&page={page}"

    async def start(self):
        for base in ("posts", "pages"):
            yield scrapy.Request(self.url(base, 1), headers={"Accept": "application/json"},
                                 cb_kwargs={"base": base, "page": 1})

    def parse(self, response, base, page):
        if page == 1:
            for n in range(2, int(response.headers.get("X-WP-TotalPages", b"1")) + 1):
                yield scrapy.Request(self.url(base, n), headers={"Accept": "application/json"},
                                     cb_kwargs={"base": base, "page": n})
        for post in json.loads(response.text):
            Bare.count += 1
            html = post["content"]["rendered"] or "<p></p>"
            yield {"url": post["link"], "title": post["title"]["rendered"],
                   "text": lxml.html.fromstring(html).text_content()}

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
  wp:
    connector: wordpress
    options: {{base_url: "{base}", include_media: false}}
    scrapy: {{CONCURRENT_REQUESTS: 16, CONCURRENT_REQUESTS_PER_DOMAIN: 16, AUTOTHROTTLE_ENABLED: false}}
"""


def bed(posts: int) -> str:
    """Start the bench's own bed, add posts up to ``posts``; its base URL."""
    os.environ.setdefault("PUSHCRAWL_REALCMS_DIR", BED_DIR)
    from tests.realcms.wordpress import bed as wp_bed

    missing = [p for p in wp_bed.REQUIRED if not Path(p).exists()]
    if missing:
        raise SystemExit(f"missing {missing}: apt-get install {wp_bed.PACKAGES}")
    info = wp_bed.start()
    env = {
        "WP_BED_DOCROOT": str(wp_bed.run_dir() / "docroot"),
        "WP_BED_HOST": f"127.0.0.1:{info['port']}",
        "WP_BENCH_POSTS": str(posts),
        "PATH": "/usr/bin:/bin",
    }
    bulk = ROOT / "bench" / "wordpress_bulk.php"
    done = subprocess.run(["php", "-d", "memory_limit=512M", str(bulk)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"adding posts failed:\n{done.stderr[-3000:]}")
    print(f"bed: {info['base_url']}, {done.stdout.strip()}", flush=True)
    return str(info["base_url"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(machine(), flush=True)
    base = bed(args.posts)
    with tempfile.TemporaryDirectory(prefix="bench-wordpress-") as tmp:
        work = Path(tmp)
        print(HEADER.replace("pages", "items"))
        for n in range(args.rounds):
            out = work / f"bare-{n}.txt"
            run = timed([sys.executable, bare_script(work, BARE), base, str(out)])
            if run.status != 0:
                raise SystemExit(f"bare crawl failed:\n{run.stderr[-3000:]}")
            b = (int(out.read_text()), run.seconds, run.cpu_s, run.peak_mb)
            print(row(n, "bare", *b), flush=True)
            settings = work / f"settings-{n}.yaml"
            settings.write_text(SETTINGS.format(work=work, n=n, base=base))
            report = work / f"report-{n}.json"
            argv = [sys.executable, "-m", "crawler.cli", "crawl", "wp", "--full", "--settings", str(settings)]
            run = timed([*argv, "--report", str(report), "--log-level", "WARNING"])
            if not report.exists():
                raise SystemExit(f"pushcrawl failed:\n{run.stderr[-3000:]}")
            counts = json.loads(report.read_text())["counts"]
            if run.status != 0:
                print(f"pushcrawl exited {run.status}: {counts}", flush=True)
            p = (int(counts["pushed"]), run.seconds, run.cpu_s, run.peak_mb)
            print(row(n, "pushcrawl", *p), flush=True)
            per_item = f"{p[2] / p[0] * 1000:.2f} ms vs {b[2] / b[0] * 1000:.2f} ms"
            ratio = (p[0] / p[1]) / (b[0] / b[1])
            print(f"{n:>5} items/s pushcrawl / bare: {ratio:.2f}; CPU per item {per_item}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
