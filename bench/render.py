"""Rendering cost and memory, measured side by side in one run (issue: render JavaScript pages).

1. Memory over a long rendered crawl: ``--pages`` (default 2,000) JavaScript-built pages listed in a sitemap,
   crawled with ``render: {mode: always}`` by the real CLI into the embedded local target. The resident memory
   of the crawl process and its browser (Playwright's driver, every Chromium process; PSS, so shared pages
   count once) is sampled five times a second beside the crawl's own progress lines; the script prints it
   after page 200 and after the last page, and their ratio (goal: ≤ 1.2). The local Push API's child process
   (the index, growing with every document) is sampled too and printed apart.
2. ``auto`` against plain: a site of which 10 % of pages are built by script; the same crawl with
   ``render: never`` and with ``render: auto``, wall and CPU ratios (goal: ≤ 1.5). Two sites, each printed
   with its ratios:
   - ``synthetic``: ``--pages`` 3 KB pages, no subresources: a render against the cheapest possible page;
   - ``docs``: Python 3.11's documentation as Debian packages it (``apt-get install python3.11-doc``, 530
     real pages of 5-750 KB with 9 scripts and 2 stylesheets each, served with their ``_static`` files);
     every 10th page is served as a shell whose script writes the page's own body at DOMContentLoaded; the
     static files carry Last-Modified, as a static server sends them (the browser may cache them).
   ``--server-ms`` makes the server take that long per page (a CMS building its pages), in both sites.

    python bench/render.py [--pages 2000] [--concurrency 4] [--part all|always|auto] [--site both|synthetic|docs]
    python bench/render.py --part auto --old 6f5f834   # the same measures with an older commit's code, alternated
    python bench/render.py --part auto --site docs --rounds 5   # five pairs, and the median of their ratios

The wall time of one plain crawl of the docs site varies by ±10 % between runs minutes apart on the same machine
(13.7 to 17.8 s seen in one hour); ``--rounds`` gives each pair's ratio and their median.

Everything runs on 127.0.0.1; nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import re
import statistics
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


DOCS = Path("/usr/share/doc/python3.11/html")
#: a docs page built by script: its own head (scripts, stylesheets), then its body written at DOMContentLoaded
DOCS_SHELL = (
    "{head}<body><div id='root'></div><script>const BODY={body};document.addEventListener('DOMContentLoaded',"
    "()=>{{document.getElementById('root').outerHTML=BODY;}});</script></body></html>"
)


def docs_page(path: Path, shell: bool) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if not shell:
        return text
    head, _, rest = text.partition("<body")
    body = rest.partition(">")[2].rpartition("</body>")[0]
    return DOCS_SHELL.format(head=head, body=json.dumps(body).replace("</", "<\\/"))


def serve(pages: int, shell_every: int, docs: bool = False, server_ms: float = 0.0) -> ThreadingHTTPServer:
    """Pages /p/N (or the docs pages, ``docs``); every ``shell_every``-th is built by script (1 = all of them)."""
    listed = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.html")) if docs else []
    position = {path: n for n, path in enumerate(listed)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].lstrip("/")
            if docs and self.path != "/sitemap.xml":
                file = (DOCS / path).resolve()
                # /usr/share: _static/jquery.js and underscore.js are Debian's symlinks to /usr/share/javascript
                # (libjs-jquery, libjs-underscore: python3.11-doc's dependencies); answered 404, the pages' scripts
                # threw "$ is not defined" and the renders ran lighter than the real pages' would
                if not file.is_file() or not file.is_relative_to(DOCS.resolve().parents[2]):
                    self.send_response(404)
                    self.end_headers()
                    return
                if path in position:
                    time.sleep(server_ms / 1000)
                    data = docs_page(file, position[path] % shell_every == 0).encode()
                    ctype = "text/html; charset=utf-8"
                else:
                    data = file.read_bytes()
                    ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
                self.send_response(200)
                if path not in position:
                    # as any static server sends it (nginx, python -m http.server): the browser may then keep a
                    # stylesheet or script in its cache for the next page of the same context
                    self.send_header("Last-Modified", self.date_time_string(int(file.stat().st_mtime)))
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if self.path == "/sitemap.xml" and docs:
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                urls = "".join(f"<url><loc>{base}/{p}</loc></url>" for p in listed)
                body = (
                    f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                )
                ctype = "application/xml"
            elif self.path == "/sitemap.xml":
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                urls = "".join(f"<url><loc>{base}/p/{n}</loc></url>" for n in range(pages))
                body = (
                    f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
                )
                ctype = "application/xml"
            elif self.path.startswith("/p/"):
                n = int(self.path[3:])
                time.sleep(server_ms / 1000)
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


CLK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, float]:
    """(start time, own CPU-seconds: utime + stime) of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return fields[19], (int(fields[11]) + int(fields[12])) / CLK


def _kind(proc: psutil.Process) -> str:
    if "chrom" not in proc.name():
        return "driver"
    types = [a.split("=", 1)[1] for a in proc.cmdline() if a.startswith("--type=")]
    return f"chromium/{types[0] if types else 'browser'}"


class TreeCpu:
    """CPU-seconds of a crawl's process tree by part: python (the crawl process), driver (Playwright's node),
    chromium/<type> (browser, renderer, gpu-process, utility, zygote). Each process's own time (utime + stime)
    is sampled and its highest value kept, keyed by pid and start time: not cutime, which would count a reaped
    renderer a second time in its zygote. A process loses at most its last sampling interval."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[tuple[int, str], tuple[str, float]] = {}

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        for proc in procs:
            try:
                started, seconds = _stat(proc.pid)
                key = (proc.pid, started)
                kind = self.seen[key][0] if key in self.seen else "chromium/zygote"
                if kind == "chromium/zygote":
                    # a renderer first seen just after the zygote forked it still has the zygote's command line:
                    # looked at again on each sample while it reads as the zygote
                    kind = _kind(proc)
                if proc.pid == self.pid:
                    kind = "python"
                self.seen[key] = (kind, seconds)
            except (psutil.Error, OSError):
                continue

    def parts(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for kind, seconds in self.seen.values():
            out[kind] = out.get(kind, 0.0) + seconds
        return out


def _is_local_api(proc: psutil.Process) -> bool:
    """The crawl's local Push API child (crawler.localproc): the index's process, Coveo's part of the work."""
    return "crawler.localproc" in proc.cmdline()


def tree_mb(pid: int) -> tuple[float, float]:
    """(PSS of the crawl process and its browser — Playwright's driver, every Chromium process —, PSS of the local
    Push API child) in MiB. Apart: the child's index grows with every document pushed, rendered or not, and the
    goal is about the browser's memory (scrapy-playwright's leaks), not the index's."""
    crawl = api = 0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0, 0.0
    for proc in procs:
        try:
            info = proc.memory_full_info()
            used = getattr(info, "pss", info.rss)
            if _is_local_api(proc):
                api += used
            else:
                crawl += used
        except psutil.Error:
            continue
    return crawl / 2**20, api / 2**20


class Run:
    """One crawl's figures: wall seconds, memory samples, CPU-seconds by part, and its stderr."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.samples: list[tuple[int, float]] = []  # (pages fetched, crawl + browser MiB)
        self.api_samples: list[tuple[int, float]] = []  # (pages fetched, local Push API child MiB)
        self.cpu: dict[str, float] = {}
        self.cpu_total = 0.0  # the sum of the parts
        self.err = ""


def site_settings(
    port: int, render: str, concurrency: int, suffix: str = "", options: str = "", scrapy: str = ""
) -> str:
    """settings.yaml of the benches' one site: the sitemap connector on this server, ``render`` (its render
    options, without max_concurrent), ``concurrency`` renders and twice as many requests; ``options``/``scrapy``:
    more of each ("key: value, ..."); ``suffix``: on the state and index folders (several runs in one folder)."""
    more_options = f"\n      {options}" if options else ""
    more_scrapy = f", {scrapy}" if scrapy else ""
    return f"""
state_dir: state{suffix}
targets: {{local: {{kind: local, data_dir: index{suffix}}}}}
target: local
sites:
  bench:
    connector: sitemap
    options:
      sitemap_urls: ["http://127.0.0.1:{port}/sitemap.xml"]{more_options}
      render: {{{render}, max_concurrent: {concurrency}}}
    scrapy: {{AUTOTHROTTLE_ENABLED: false, CONCURRENT_REQUESTS: {concurrency * 2}{more_scrapy}}}
"""


def crawl(workdir: Path, port: int, render: str, concurrency: int, memory: bool = False, root: Path = ROOT) -> Run:
    """Run one crawl by the real CLI; sample its process tree's CPU (and memory when ``memory``)."""
    settings = workdir / f"settings-{render.split(',')[0].split(':')[1].strip()}.yaml"
    progress = "PUSHCRAWL_PROGRESS_INTERVAL: 0.5"
    text = site_settings(port, render, concurrency, suffix=f"-{settings.stem}", scrapy=progress)
    settings.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    run = Run()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "crawl", "bench", "--full", "--settings", str(settings)],
        cwd=root,  # python -m: the code of ``root`` (an older commit's, --old)
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
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
    cpu = TreeCpu(proc.pid)
    while proc.poll() is None:
        if memory:
            crawl_mb, api_mb = tree_mb(proc.pid)
            run.samples.append((fetched[0], crawl_mb))
            run.api_samples.append((fetched[0], api_mb))
        cpu.sample()
        time.sleep(0.2)
    run.wall = time.monotonic() - started
    reader.join(5)
    # not getrusage(RUSAGE_CHILDREN): Chromium's processes that outlive the driver are reaped by init, and
    # their CPU never reaches this process's children's total; sampled instead (TreeCpu)
    run.cpu = cpu.parts()
    run.cpu_total = sum(run.cpu.values())
    run.err = "".join(err)
    if proc.returncode != 0:  # figures of a failed crawl would compare nothing
        raise SystemExit(f"the crawl ({render}) failed with code {proc.returncode}:\n{run.err[-3000:]}")
    return run


def chromium(run: Run) -> float:
    return sum(v for k, v in run.cpu.items() if k.startswith("chromium"))


def describe(run: Run) -> str:
    """Wall, and CPU-seconds of the whole tree and of each part."""
    parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(run.cpu.items()) if v >= 0.05)
    return f"{run.wall:.1f}s wall, CPU {run.cpu_total:.1f}s ({parts})"


def at(samples: list[tuple[int, float]], pages: int) -> float:
    """Memory at the first sample taken once ``pages`` pages were fetched (the max over the next 5 samples,
    so one sample taken between two pages does not flatter the figure)."""
    for i, (n, _) in enumerate(samples):
        if n >= pages:
            return max(mb for _, mb in samples[i : i + 5])
    return max(mb for _, mb in samples)


def report_auto(label: str, plain: Run, auto: Run, server_ms: float) -> None:
    """Print one site's auto-against-plain figures and ratios."""
    found = re.search(r"rendered: (\d+) \(auto (\d+)\)", auto.err)
    renders = int(found.group(2)) if found else 0
    fetched = re.findall(r"progress: fetched ([\d,]+)", plain.err)  # the last progress line
    added = auto.cpu_total - plain.cpu_total
    print(
        f"auto vs plain, {label}: {fetched[-1] if fetched else '?'} pages, 10% built by script (rendered "
        f"{renders}), server {server_ms:g} ms/page:\n"
        f"  plain {describe(plain)}\n  auto  {describe(auto)}\n"
        f"  ratio wall {auto.wall / plain.wall:.2f}, CPU {auto.cpu_total / plain.cpu_total:.2f} (goal ≤ 1.5); "
        f"added per render: CPU {1000 * added / max(renders, 1):.0f} ms (chromium "
        f"{1000 * chromium(auto) / max(renders, 1):.0f} ms, python "
        f"{1000 * (auto.cpu['python'] - plain.cpu['python']) / max(renders, 1):.0f} ms), wall "
        f"{1000 * (auto.wall - plain.wall) / max(renders, 1):.0f} ms",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--part", choices=("all", "always", "auto"), default="all", help="which measure to run")
    parser.add_argument("--render", default="", help="extra render options for both measures, e.g. 'wait_for: load'")
    parser.add_argument("--site", choices=("both", "synthetic", "docs"), default="both", help="auto: which site")
    parser.add_argument("--server-ms", type=float, default=0.0, help="the server's time per page (ms)")
    parser.add_argument("--old", help="auto: also measure this commit's code (git archive), alternated")
    parser.add_argument(
        "--rounds", type=int, default=1, help="auto: plain and auto crawls this many times each, alternated"
    )
    args = parser.parse_args()
    extra = f", {args.render}" if args.render else ""
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        codes = [("", ROOT)]
        if args.old:
            old = work / "old-code"
            old.mkdir()
            archive = subprocess.run(["git", "archive", args.old], cwd=ROOT, check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            codes = [(f" @{args.old}", old), ("", ROOT)]
        if args.part in ("all", "always"):
            every = serve(args.pages, 1)
            run = crawl(work, every.server_address[1], f"mode: always{extra}", args.concurrency, memory=True)
            every.shutdown()
            found = re.search(r"rendered: (\d+)", run.err)
            rendered = int(found.group(1)) if found else 0
            early, late = at(run.samples, 200), at(run.samples, args.pages)
            per_page = ", ".join(f"{k} {1000 * v / max(rendered, 1):.0f}" for k, v in sorted(run.cpu.items()) if v)
            print(
                f"always: {args.pages} pages in {run.wall:.1f}s ({args.pages / run.wall:.1f} pages/s), rendered "
                f"{rendered}; memory (crawl + browser, PSS) after page 200: "
                f"{early:.0f} MB, after page {args.pages}: {late:.0f} MB, ratio {late / early:.2f} (goal ≤ 1.2); "
                f"peak {max(mb for _, mb in run.samples):.0f} MB; the local Push API child apart: "
                f"{at(run.api_samples, 200):.0f} MB after page 200, {at(run.api_samples, args.pages):.0f} MB after "
                f"page {args.pages}\n"
                f"  {describe(run)}; per rendered page: CPU {1000 * run.cpu_total / max(rendered, 1):.0f} ms "
                f"({per_page}), wall {1000 * run.wall / max(rendered, 1):.0f} ms"
            )
        if args.part in ("all", "auto"):
            sites = ("synthetic", "docs") if args.site == "both" else (args.site,)
            for site in sites:
                if site == "docs" and not DOCS.is_dir():
                    print("docs: skipped, apt-get install python3.11-doc")
                    continue
                mixed = serve(args.pages, 10, docs=site == "docs", server_ms=args.server_ms)
                port = mixed.server_address[1]
                ratios: dict[str, list[float]] = {label: [] for label, _ in codes}
                for round_ in range(args.rounds):
                    for label, root in codes:
                        runs = work / f"{site}{label.strip(' @')}-{round_}"
                        runs.mkdir()
                        # plain first in even rounds, auto first in odd ones: a drift of the machine's speed
                        # during a round falls on both sides of its ratio
                        modes = ["never", "auto"] if round_ % 2 == 0 else ["auto", "never"]
                        done = {m: crawl(runs, port, f"mode: {m}{extra}", args.concurrency, root=root) for m in modes}
                        report_auto(f"{site}{label}", done["never"], done["auto"], args.server_ms)
                        ratios[label].append(done["auto"].wall / done["never"].wall)
                if args.rounds > 1:
                    for label, values in ratios.items():
                        listed = ", ".join(f"{v:.2f}" for v in values)
                        print(
                            f"auto vs plain, {site}{label}: wall ratio per round {listed}; "
                            f"median {statistics.median(values):.2f} (goal ≤ 1.5)",
                            flush=True,
                        )
                mixed.shutdown()
        print(f"machine load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
