"""A no-change rerun with the language memo off (before) and on (after), side by side in one invocation.

    python bench/rerun_cost.py [--docs 10000] [--pages 2000] [--rounds 2]

Two sites, each in its own project directory, each crawled once (the first run, which fills the state file
and the memo), then rerun ``--rounds`` times in each mode, alternating which goes first:

- ``text``: the synthetic connector (tests/helpers/synthetic.py), ``--docs`` documents of 2,000 characters
  of text, no network (the case bench/memory.py profiled: ~37 % of a rerun in language detection);
- ``html``: the ``web`` connector over ``--pages`` pages served by our own nginx (``apt-get install
  nginx-light``), pages that declare no language, so each is detected; every rerun fetches and extracts
  every page again and pushes none.

"before" is ``-s PUSHCRAWL_LANGUAGE_MEMO=false``: every document is detected again, as before the memo;
"after" is the default. Each rerun is a ``pushcrawl crawl`` child into the embedded local target (which
runs inside that process), reaped with ``os.wait4``: its CPU-seconds (user + system) and peak RSS come from
the kernel. For ``html`` nginx's CPU (master and worker, from /proc) is added. CPU-seconds, not wall time,
are the figure to compare on a shared machine; the load average is printed beside each run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

from crawlbench import ROOT, Run, free_port, load, machine, start_nginx, timed, wait_port

SETTINGS = """
target: local
targets:
  local: {{kind: local, data_dir: index}}
state_dir: state
sites:
  site:
    security: {{mode: everyone}}
{site}"""
#: the ``site:`` entry of each kind, under SETTINGS' common part
TEXT_SITE = """    connector: "tests.helpers.synthetic:SyntheticConnector"
    options: {{count: {docs}, size: 2000}}
"""
HTML_SITE = """    connector: web
    options: {{start_urls: ["{base}/"], max_depth: 2, autothrottle: false, obey_robots: false{more}}}
    scrapy: {{CONCURRENT_REQUESTS: 16, CONCURRENT_REQUESTS_PER_DOMAIN: 16}}
"""
WORDS = ["harbour", "tide", "ledger", "budget", "council", "ferry", "lantern", "orchard", "quarry", "meadow"]


def make_pages(site: Path, pages: int) -> None:
    """An index linking every page; pages of ~3 KB of text in <main>, no ``lang``: each is detected."""
    rng = random.Random(7)
    (site / "p").mkdir(parents=True)
    links = "".join(f'<li><a href="/p/{i}.html">Page {i}</a></li>' for i in range(pages))
    (site / "index.html").write_text(f"<html><head><title>Index</title></head><body><main><ul>{links}</ul></main>")
    for i in range(pages):
        paras = "".join(f"<p>{' '.join(rng.choices(WORDS, k=60))}.</p>" for _ in range(6))
        (site / "p" / f"{i}.html").write_text(
            f"<!doctype html><html><head><meta charset=utf-8><title>Page {i}</title></head><body>"
            f"<header><nav>Home · Pages</nav></header><main><h1>Page {i}</h1>{paras}</main>"
            "<footer>All rights reserved</footer></body></html>"
        )


def proc_cpu(pids: list[int]) -> float:
    """utime + stime of these processes, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / 100  # USER_HZ: 100 on Linux


def nginx_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *(int(c) for c in children)]


def crawl(project: Path, memo: bool, server_pids: list[int]) -> tuple[Run, dict[str, int], float]:
    argv = [sys.executable, "-m", "crawler.cli", "crawl", "site", "--settings", str(project / "settings.yaml")]
    if not memo:
        argv += ["-s", "PUSHCRAWL_LANGUAGE_MEMO=false"]
    report = project / "report.json"
    before = proc_cpu(server_pids)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the synthetic connector lives in tests/helpers
    run = timed([*argv, "--report", str(report), "-q"], env=env, cwd=project)
    served = proc_cpu(server_pids) - before
    if run.status != 0:
        raise SystemExit(f"crawl failed ({run.status}):\n{run.stderr[-3000:]}")
    return run, json.loads(report.read_text())["counts"], served


def bench(name: str, project: Path, rounds: int, server_pids: list[int]) -> dict[str, list[float]]:
    first, counts, _ = crawl(project, True, server_pids)
    print(f"{name}: first run {counts['pushed']} pushed, {first.cpu_s:.1f} CPU-s, {first.peak_mb:.0f} MB", flush=True)
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    for n in range(rounds):
        for mode in ("before", "after") if n % 2 == 0 else ("after", "before"):
            run, counts, served = crawl(project, mode == "after", server_pids)
            assert counts["pushed"] == 0 and counts["unchanged"] > 0, counts  # a no-change rerun
            cpu[mode].append(run.cpu_s + served)
            print(
                f"{name} round {n} {mode:6}: {counts['unchanged']} unchanged · {run.cpu_s + served:6.2f} CPU-s "
                f"(server {served:.2f}) · peak {run.peak_mb:4.0f} MB · {run.seconds:6.1f} s wall · load {load()}",
                flush=True,
            )
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=("text", "html"), default=None)
    args = parser.parse_args()
    print(machine(), flush=True)
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-rerun-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's worker runs as another user: it must be able to read the site
        if args.only in (None, "text"):
            project = work / "text"
            project.mkdir()
            (project / "settings.yaml").write_text(SETTINGS.format(site=TEXT_SITE.format(docs=args.docs)))
            results["text"] = bench("text", project, args.rounds, [])
        if args.only in (None, "html"):
            site, prefix, project = work / "site", work / "nginx", work / "html"
            project.mkdir()
            make_pages(site, args.pages)
            port = free_port()
            server = start_nginx(prefix, port, site)
            try:
                wait_port(port)
                (project / "settings.yaml").write_text(
                    SETTINGS.format(site=HTML_SITE.format(base=f"http://127.0.0.1:{port}", more=""))
                )
                results["html"] = bench("html", project, args.rounds, nginx_pids(server.pid))
            finally:
                server.terminate()  # our own nginx master, by its pid: it stops its worker
                server.wait()
    for name, cpu in results.items():
        before, after = min(cpu["before"]), min(cpu["after"])
        ratio = after / before
        print(f"{name}: no-change rerun CPU-s, best of each: before {before:.2f}, after {after:.2f}: {ratio:.2f}x")
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
