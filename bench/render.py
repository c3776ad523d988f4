"""Rendering cost and memory, measured side by side in one run (issue: render JavaScript pages).

1. Memory over a long rendered crawl: ``--pages`` (default 2,000) JavaScript-built pages listed in a sitemap,
   crawled with ``render: {mode: always}`` by the real CLI into the embedded local target. The resident memory
   of the crawl process and all its descendants (Playwright's driver, every Chromium process; PSS, so shared
   pages count once) is sampled twice a second beside the crawl's own progress lines; the script prints it
   after page 200 and after the last page, and their ratio (goal: ≤ 1.2).
2. ``auto`` against plain: a site of ``--pages`` pages of which 10 % are built by script; the same crawl with
   ``render: never`` and with ``render: auto``, wall time ratio (goal: ≤ 1.5).

    python bench/render.py [--pages 2000] [--concurrency 4]

Everything runs on 127.0.0.1; nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SHELL = (
    "<!doctype html><html><head><title>Page {n}</title><script>"
    "document.addEventListener('DOMContentLoaded',()=>{{document.getElementById('root').innerHTML="
    "'<main><h1>Page {n}</h1><p>'+'Rendered words for page {n}, with a few more to look like content. '.repeat(20)"
    "+'</p></main>';}});</script></head><body><div id='root'></div></body></html>"
)
PLAIN = (
    "<!doctype html><html><head><title>Page {n}</title><script>var a=1;</script></head><body><main><h1>Page {n}"
    "</h1><p>"
    + "Server-rendered words for this page, long enough to need no browser. " * 20
    + "</p></main></body></html>"
)


def serve(pages: int, shell_every: int) -> ThreadingHTTPServer:
    """Pages /p/N; every ``shell_every``-th is built by script (1 = all of them)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/sitemap.xml":
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                urls = "".join(f"<url><loc>{base}/p/{n}</loc></url>" for n in range(pages))
                body = (
                    f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                )
                ctype = "application/xml"
            elif self.path.startswith("/p/"):
                n = int(self.path[3:])
                body = (SHELL if n % shell_every == 0 else PLAIN).format(n=n)
                ctype = "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.end_headers()
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def tree_mb(pid: int) -> float:
    total = 0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for proc in procs:
        try:
            info = proc.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except psutil.Error:
            continue
    return total / 2**20


def crawl(workdir: Path, port: int, render: str, concurrency: int) -> tuple[float, list[tuple[int, float]], str]:
    """Run one crawl; return (seconds, [(pages fetched, MB) samples], stderr)."""
    settings = workdir / f"settings-{render.split(',')[0].split(':')[1].strip()}.yaml"
    settings.write_text(
        f"""
state_dir: state-{settings.stem}
targets: {{local: {{kind: local, data_dir: index-{settings.stem}}}}}
target: local
sites:
  bench:
    connector: sitemap
    options:
      sitemap_urls: ["http://127.0.0.1:{port}/sitemap.xml"]
      render: {{{render}, max_concurrent: {concurrency}}}
    scrapy: {{AUTOTHROTTLE_ENABLED: false, CONCURRENT_REQUESTS: {concurrency * 2}, PUSHCRAWL_PROGRESS_INTERVAL: 0.5}}
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "bench", "--full", "--settings", str(settings)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    samples: list[tuple[int, float]] = []
    fetched = [0]
    err: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            m = re.search(r"progress: fetched ([\d,]+)", line)
            if m:
                fetched[0] = int(m.group(1).replace(",", ""))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while proc.poll() is None:
        samples.append((fetched[0], tree_mb(proc.pid)))
        time.sleep(0.5)
    reader.join(5)
    return time.monotonic() - started, samples, "".join(err)


def at(samples: list[tuple[int, float]], pages: int) -> float:
    """Memory at the first sample taken once ``pages`` pages were fetched (the max over the next 5 samples,
    so one sample taken between two pages does not flatter the figure)."""
    for i, (n, _) in enumerate(samples):
        if n >= pages:
            return max(mb for _, mb in samples[i : i + 5])
    return max(mb for _, mb in samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        every = serve(args.pages, 1)
        secs, samples, err = crawl(work, every.server_address[1], "mode: always", args.concurrency)
        every.shutdown()
        rendered = re.search(r"rendered: (\d+)", err)
        early, late = at(samples, 200), at(samples, args.pages)
        print(
            f"always: {args.pages} pages in {secs:.1f}s ({args.pages / secs:.1f} pages/s), rendered "
            f"{rendered.group(1) if rendered else '?'}; memory (crawl + browser, PSS) after page 200: "
            f"{early:.0f} MB, after page {args.pages}: {late:.0f} MB, ratio {late / early:.2f} (goal ≤ 1.2); "
            f"peak {max(mb for _, mb in samples):.0f} MB"
        )
        mixed = serve(args.pages, 10)
        port = mixed.server_address[1]
        plain_s, _, _ = crawl(work, port, "mode: never", args.concurrency)
        auto_s, _, auto_err = crawl(work, port, "mode: auto", args.concurrency)
        mixed.shutdown()
        auto_rendered = re.search(r"rendered: (\d+) \(auto (\d+)\)", auto_err)
        print(
            f"auto vs plain, {args.pages} pages, 10% built by script: plain {plain_s:.1f}s, auto {auto_s:.1f}s "
            f"(rendered {auto_rendered.group(2) if auto_rendered else '?'}), ratio {auto_s / plain_s:.2f} "
            f"(goal ≤ 1.5)"
        )
        print(f"machine load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
