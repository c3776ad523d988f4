"""What one rendered page costs inside Chromium and Playwright's driver, under launch variants side by side.

The docs site of bench/render.py (Python 3.11's Debian docs, every 10th page a shell whose script writes the
page's body) is crawled by the real CLI with ``render: {mode: always}``; the sitemap connector's ``allow`` keeps
only the shell pages (``--pages`` of them, 53 at most), so every fetched page is a render through
PagePoolHandler and connectors/render/direct.py. Each variant is one crawl in a process of its own, the
variants alternated round after round (``--rounds``), so a change of the machine's load falls on all of them.

Figures: CPU-seconds per rendered page of each process type (bench/render.py's TreeCpu: the crawl process,
Playwright's node driver, Chromium's browser, renderer, gpu-process, utility, zygote), without the fixed cost of a
crawl (a one-page crawl of the same variant is run beside each, and per page = (N pages - 1 page) / (N - 1):
starting Python, the driver and the browser costs seconds, which 53 pages would not dilute), the median over rounds,
and the ratio of each variant's Chromium + driver CPU to the first variant's. The check: the main text each
page was indexed with (the local index's ``texts``) must be the same under every variant as under the first;
a variant that changes one page's text is reported, and the script exits 1.

    python bench/render_chromium.py [--pages 53] [--rounds 3] [--variants shipped,before,...]

A variant changes the browser's command line (``VARIANTS``: flags added or taken out of
connectors.render.CHROMIUM_ARGS in the crawl's process, before the crawl starts), or how the DOM is read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render import DOCS, ROOT, TreeCpu, serve, site_settings  # bench/ is not a package: found by sys.path

sys.path.insert(0, str(ROOT))
from connectors.render import CHROMIUM_ARGS

FEATURES = next(a for a in CHROMIUM_ARGS if a.startswith("--disable-features="))

#: what each variant adds to (+) or takes out of (-) the shipped CHROMIUM_ARGS; "py:page-content": the DOM read
#: by Playwright's page.content() instead of connectors.render.dom; "py:images-by-fetch": block's images failed
#: at the DevTools protocol like its other types, not switched off in Blink (connectors.render.NO_IMAGES);
#: "render:K: V": a render option of the site
VARIANTS: dict[str, list[str]] = {
    "shipped": [],
    # this branch's base: Playwright's feature list only, and page.content()
    "before": ["-" + FEATURES, "py:page-content"],
    "with-render-document": ["-" + FEATURES],
    "page-content": ["py:page-content"],
    "images-by-fetch": ["py:images-by-fetch"],
    # block images only: no DevTools Fetch session at all (media and fonts load)
    "block-images-only": ["render:block: [image]"],
    "in-process-gpu": ["+--in-process-gpu"],
    "no-gpu-compositing": ["+--disable-gpu-compositing", "+--disable-software-rasterizer"],
    "one-raster-thread": ["+--num-raster-threads=1"],
    # a new context (and renderer, HTTP cache, compiled scripts) every 5 pages instead of every 100
    "context-per-5-pages": ["render:max_pages_per_context: 5"],
}

CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
import connectors.render as render
import connectors.render.dom as dom
async def page_content(page, fallback, *_):
    return await fallback()
for change in sys.argv[2].split("\\x1f") if sys.argv[2] else []:
    flag = change[1:]
    if change == "py:page-content":
        dom.content = page_content
    elif change == "py:images-by-fetch":
        render.launch_args = lambda options: list(render.CHROMIUM_ARGS)
        render.fetch_blocked = lambda options: sorted(options.block)
    elif change.startswith("render:"):
        pass  # in the site's settings
    elif change[0] == "+":
        render.CHROMIUM_ARGS.append(flag)
    elif flag in render.CHROMIUM_ARGS:
        render.CHROMIUM_ARGS.remove(flag)
from crawler.cli import main
sys.exit(main(sys.argv[3:]))
"""


def shells(pages: int) -> list[str]:
    """The docs pages bench/render.py serves as script-built shells (every 10th of its sorted list)."""
    listed = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.html"))
    return listed[::10][:pages]


def crawl(work: Path, name: str, port: int, paths: list[str], concurrency: int) -> tuple[dict[str, float], dict]:
    """One crawl under variant ``name``: (CPU-seconds by process type, {document id: indexed text})."""
    options = "".join(f", {c.removeprefix('render:')}" for c in VARIANTS[name] if c.startswith("render:"))
    run = work / f"{name}-{time.monotonic_ns()}"
    run.mkdir()
    pattern = "|".join(re.escape(p) for p in paths)
    allow = json.dumps([f"^http://127\\.0\\.0\\.1:{port}/({pattern})$"])
    settings = run / "settings.yaml"
    site = site_settings(port, f"mode: always{options}", concurrency, options=f"allow: {allow}")
    settings.write_text(site, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    cli = ["crawl", "bench", "--full", "--settings", str(settings)]
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ROOT), "\x1f".join(VARIANTS[name]), *cli],
        cwd=run,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    cpu = TreeCpu(proc.pid)
    while proc.poll() is None:
        cpu.sample()
        time.sleep(0.2)
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"the crawl ({name}) failed with code {proc.returncode}:\n{err[-3000:]}")
    db = sqlite3.connect(run / "index" / "localapi.sqlite3")
    texts = dict(db.execute("SELECT i.document_id, t.body FROM items i JOIN texts t ON t.rid = i.rid"))
    db.close()
    return cpu.parts(), texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=53, help="shell pages rendered per crawl (53 at most)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"among {', '.join(VARIANTS)}")
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or not DOCS.is_dir():
        raise SystemExit(f"unknown variants {unknown}" if unknown else "apt-get install python3.11-doc")
    paths = shells(args.pages)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f}; {len(paths)} pages per crawl")
    server = serve(0, 10, docs=True)
    per: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    reference: dict | None = None
    changed: dict[str, set[str]] = {n: set() for n in names}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for name in names:
                port = server.server_address[1]
                fixed, _ = crawl(Path(tmp), name, port, paths[:1], args.concurrency)
                parts, texts = crawl(Path(tmp), name, port, paths, args.concurrency)
                if len(texts) != len(paths):
                    raise SystemExit(f"{name}: {len(texts)} pages indexed, {len(paths)} expected")
                if reference is None:
                    reference = texts
                changed[name] |= {d for d, body in texts.items() if reference.get(d) != body}
                n = len(paths) - 1
                per[name].append({k: 1000 * (v - fixed.get(k, 0.0)) / n for k, v in parts.items()})
                print(f"  round {round_ + 1} {name}: load {os.getloadavg()[0]:.1f}", flush=True)
    server.shutdown()
    kinds = sorted({k for runs in per.values() for r in runs for k in r})
    print(f"\nCPU ms per rendered page, median of {args.rounds} rounds (load after {os.getloadavg()[0]:.2f}):")
    heads = " ".join(f"{k.removeprefix('chromium/'):>11s}" for k in kinds)
    print(f"{'variant':20s} {heads}  chromium+driver ratio texts")
    base = None
    for name in names:
        med = {k: statistics.median(r.get(k, 0.0) for r in per[name]) for k in kinds}
        engine = sum(v for k, v in med.items() if k != "python")
        base = base or engine
        same = "same" if not changed[name] else f"{len(changed[name])} CHANGED"
        cells = " ".join(f"{med[k]:11.0f}" for k in kinds)
        print(f"{name:20s} {cells}  {engine:14.0f} {engine / base:5.2f} {same}")
    return 1 if any(changed.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
