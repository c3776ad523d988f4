"""A no-change rerun of the web connector with revalidation off (before) and on (after), side by side.

    python bench/revalidate_cost.py [--pages 2000] [--rounds 2]

``--pages`` pages (bench/rerun_cost.py's, ~3 KB each, modified an hour ago) served by our own nginx, which
answers conditional GETs. Two project directories crawl the same site: ``before`` with the site option
``revalidate: false`` (every rerun downloads every page again, as before crawler.revalidate), ``after`` with
the default. Each is crawled once (the first run fills the state file and the stored pages), then rerun
``--rounds`` times in each mode, alternating which goes first. A rerun must push nothing.

Per rerun: bytes downloaded (Scrapy's ``downloader/response_bytes`` from the run's log, less the stored bodies
of 304s, which it counts too: ``pushcrawl/http/not_downloaded_bytes``), pages answered 304,
wall time, and CPU-seconds of the crawl (a ``pushcrawl crawl`` child reaped with ``os.wait4``, with the local
Push API child it started) plus nginx's (master and worker, from /proc). CPU-seconds are the figure to compare
on a shared machine; the load average is printed beside each run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from crawlbench import ROOT, Run, free_port, load, machine, start_nginx, timed, wait_port
from rerun_cost import HTML_SITE, SETTINGS, make_pages, nginx_pids, proc_cpu


def crawl(project: Path, server_pids: list[int]) -> tuple[Run, dict[str, int], float, int, int]:
    """One run: (timing, counts, nginx CPU-s, bytes downloaded, pages answered 304)."""
    report = project / "report.json"
    argv = [sys.executable, "-m", "crawler.cli", "crawl", "site", "--settings", str(project / "settings.yaml")]
    before = proc_cpu(server_pids)
    run = timed([*argv, "--report", str(report), "-q"], env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=project)
    served = proc_cpu(server_pids) - before
    if run.status != 0:
        raise SystemExit(f"crawl failed ({run.status}):\n{run.stderr[-3000:]}")
    data = json.loads(report.read_text())
    log = Path(data["log_file"]).read_text()
    # Scrapy counts a 304's stored body as a response's bytes: what the middleware served from storage is not
    downloaded = int(re.findall(r"'downloader/response_bytes': (\d+)", log)[-1])
    http = data["extra"].get("http", {})
    return run, data["counts"], served, downloaded - http.get("not_downloaded_bytes", 0), http.get("not_modified", 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(machine(), flush=True)
    best: dict[str, tuple[float, float, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-revalidate-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's worker runs as another user: it must be able to read the site
        site, prefix = work / "site", work / "nginx"
        make_pages(site, args.pages)
        hour_ago = time.time() - 3600  # a page modified in the second it is served keeps no validator
        for path in site.rglob("*.html"):
            os.utime(path, (hour_ago, hour_ago))
        port = free_port()
        server = start_nginx(prefix, port, site)
        try:
            wait_port(port)
            pids = nginx_pids(server.pid)
            projects = {}
            for mode in ("before", "after"):
                projects[mode] = project = work / mode
                project.mkdir()
                on = "true" if mode == "after" else "false"
                site = HTML_SITE.format(base=f"http://127.0.0.1:{port}", more=f", revalidate: {on}")
                (project / "settings.yaml").write_text(SETTINGS.format(site=site))
                run, counts, served, got, _ = crawl(project, pids)
                print(f"{mode}: first run {counts['pushed']} pushed, {got:,} bytes, {run.cpu_s:.1f} CPU-s", flush=True)
            for n in range(args.rounds):
                for mode in ("before", "after") if n % 2 == 0 else ("after", "before"):
                    run, counts, served, got, not_modified = crawl(projects[mode], pids)
                    assert counts["pushed"] == 0 and counts["unchanged"] > 0, counts  # a no-change rerun
                    cpu = run.cpu_s + served
                    print(
                        f"round {n} {mode:6}: {counts['unchanged']} unchanged · {not_modified} not modified · "
                        f"{got:>10,} bytes · {cpu:6.2f} CPU-s (nginx {served:.2f}) · {run.seconds:6.1f} s wall · "
                        f"load {load()}",
                        flush=True,
                    )
                    old = best.get(mode, (1e9, 1e9, 0))
                    best[mode] = (min(old[0], cpu), min(old[1], run.seconds), got)
        finally:
            server.terminate()  # our own nginx master, by its pid: it stops its worker
            server.wait()
    (cpu0, wall0, bytes0), (cpu1, wall1, bytes1) = best["before"], best["after"]
    print(
        f"no-change rerun of {args.pages} pages, best of each: bytes {bytes0:,} → {bytes1:,} "
        f"({bytes1 / bytes0:.3f}x) · CPU-s {cpu0:.2f} → {cpu1:.2f} ({cpu1 / cpu0:.2f}x) · "
        f"wall {wall0:.1f} → {wall1:.1f} s ({wall1 / wall0:.2f}x)"
    )
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
