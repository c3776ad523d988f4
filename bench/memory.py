"""Peak memory of a crawl against the size of the site: 10,000 vs 200,000 documents, side by side, one run.

    .venv/bin/python bench/memory.py [--counts 10000,200000] [--size 2000] [--process child|thread]

For each count, in a fresh project directory: a first run, then a no-change rerun, each a real
``pushcrawl crawl`` of the synthetic connector (tests/helpers/synthetic.py, ``size``-byte text documents)
into the local target (``kind: local``: the local Push API runs in a child process the crawl starts, stops and
reaps, or with ``--process thread`` inside the crawl process; its memory counts either way). Each run's peak
RSS is the crawl process's own ``ru_maxrss``, written at exit by a two-line wrapper, so no sampling can miss
the peak, plus the child's own peak (VmHWM), which it logs when it stops (the sum of two peaks: an upper
bound); CPU-seconds (user + system, of the crawl and its reaped children) are written beside it. The goal
(issue 12, item 8): peak RSS at the large count ≤ 1.2x that at the small count, for the first run and the
rerun, and ≤ 250 MB.

Prints a Markdown table, with the machine's load average before and after (the machine may be shared:
time is affected, peak memory is not).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# runs the CLI and records this process's peak RSS (KiB on Linux) and the CPU-seconds (user + system) of it and
# its reaped children (the local Push API child: the crawl waits for it) in PEAK_FILE at exit. Not the children's
# ru_maxrss: Linux starts an exec'd child's at its forking parent's size.
WRAPPER = (
    "import atexit, os, resource, sys; from crawler.cli import main; "
    "u = lambda: [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]; "
    "peak = lambda: f'{u()[0].ru_maxrss} {sum(r.ru_utime + r.ru_stime for r in u())}'; "
    "atexit.register(lambda: open(os.environ['PEAK_FILE'], 'w').write(peak())); "
    "sys.exit(main(sys.argv[1:]))"
)
SETTINGS = """
target: local
targets:
  local: {{kind: local, data_dir: index, process: {process}}}
sites:
  synth:
    connector: "tests.helpers.synthetic:SyntheticConnector"
    options: {{count: {count}, size: {size}}}
    security: {{mode: everyone}}
"""


def crawl(project: Path) -> dict[str, float]:
    peak_file = project / "peak"
    report = project / "report.json"
    env = {**os.environ, "PEAK_FILE": str(peak_file), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, "crawl", "synth", "--settings", "settings.yaml", "--report", str(report)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    done = json.loads(report.read_text())
    counts = done["counts"]
    child = re.search(r"local Push API child \d+ stopped: peak RSS (\d+) MB", Path(done["log_file"]).read_text())
    return {
        "seconds": seconds,
        "peak_mb": int(peak_file.read_text().split()[0]) / 1024 + (int(child[1]) if child else 0),
        "child_mb": int(child[1]) if child else 0,
        "cpu": float(peak_file.read_text().split()[1]),
        "pushed": counts["pushed"],
        "unchanged": counts["unchanged"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", default="10000,200000")
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--process", choices=["child", "thread"], default="child", help="where the local API runs")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    load_before = os.getloadavg()
    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="pushcrawl-mem-") as tmp:
            project = Path(tmp)
            (project / "settings.yaml").write_text(SETTINGS.format(count=count, size=args.size, process=args.process))
            first = crawl(project)
            rerun = crawl(project)
            assert first["pushed"] == count and rerun["unchanged"] == count, (first, rerun)
            rows.append((count, first, rerun))
            print(f"{count}: first {first}, rerun {rerun}", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    print(
        "| documents | first run s | first run CPU s | first run peak RSS MB | rerun s | rerun CPU s "
        "| rerun peak RSS MB | rerun / first CPU |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count, first, rerun in rows:
        print(
            f"| {count:,} | {first['seconds']:.1f} | {first['cpu']:.1f} | {first['peak_mb']:.0f} | "
            f"{rerun['seconds']:.1f} | {rerun['cpu']:.1f} | {rerun['peak_mb']:.0f} | "
            f"{rerun['cpu'] / first['cpu']:.0%} |"
        )
    small, large = rows[0], rows[-1]
    print(
        f"\nlarge / small peak: first run {large[1]['peak_mb'] / small[1]['peak_mb']:.2f}x, "
        f"rerun {large[2]['peak_mb'] / small[2]['peak_mb']:.2f}x · load average before "
        f"{' '.join(f'{x:.1f}' for x in load_before)}, after {' '.join(f'{x:.1f}' for x in load_after)} "
        f"· {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
