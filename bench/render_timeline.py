"""When the rendered pages of an ``auto`` crawl finish, against the plain ones: one crawl per code, side by side.

Serves bench/render.py's docs site (every 10th page built by script), crawls it with ``render: {mode: auto}``
through the real CLI at ``--log-level DEBUG``, and prints, from the run's log (Scrapy's ``Crawled (200)`` lines),
the second each render finished at and the second of the last plain page, counted from the first page.
Playwright on the reactor's loop renders only after the plain crawl; on its own loop the renders are spread
over it.

    python bench/render_timeline.py [--old COMMIT]   # COMMIT's code first (git archive), then this tree's
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render  # bench/render.py, beside this file (benches are scripts, not a package)


def stamp(line: str) -> float:
    return datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S").timestamp() + int(line[20:23] or 0) / 1000


def timeline(root: Path, port: int, work: Path) -> str:
    (work / "settings.yaml").write_text(render.site_settings(port, "mode: auto", 4), encoding="utf-8")
    command = [sys.executable, "-m", "crawler.cli", "crawl", "bench", "--full", "--log-level", "DEBUG"]
    started = time.monotonic()
    subprocess.run([*command, "--settings", str(work / "settings.yaml")], cwd=root, capture_output=True, check=False)
    wall = time.monotonic() - started
    log = next((work / "state" / "logs").glob("*.log")).read_text(encoding="utf-8")
    crawled = [line for line in log.splitlines() if "Crawled (200)" in line]
    first = stamp(crawled[0])
    plain = [stamp(line) - first for line in crawled if "playwright" not in line]
    renders = [stamp(line) - first for line in crawled if "playwright" in line]
    done = " ".join(f"{t:.0f}" for t in renders)
    return f"wall {wall:.1f}s; last plain page at {plain[-1]:.1f}s; {len(renders)} renders done at (s): {done}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", help="also this commit's code, first")
    args = parser.parse_args()
    site = render.serve(500, 10, docs=True)
    with tempfile.TemporaryDirectory() as tmp:
        codes = [("this tree", render.ROOT)]
        if args.old:
            old = Path(tmp) / "old-code"
            old.mkdir()
            archive = subprocess.run(["git", "archive", args.old], cwd=render.ROOT, check=True, capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
            codes.insert(0, (args.old, old))
        for n, (label, root) in enumerate(codes):
            work = Path(tmp) / f"run{n}"
            work.mkdir()
            print(f"{label}: {timeline(root, site.server_address[1], work)}", flush=True)
    site.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
