"""CPU of one CLI crawl forked from the test zygote (tests/fixtures/zygote.py), for two checkouts side by side.

    .venv/bin/python bench/zygote_child_cpu.py [--crawls 10] ROOT [ROOT ...]

Each ROOT is a checkout of this repository (e.g. this one and ``git archive <commit> | tar -x -C /tmp/old``
for an earlier zygote). For each, at the same time, in a process of its own: a local Push API in that
process, then ``--crawls`` five-document ``pushcrawl crawl --full`` runs of the synthetic connector, each
forked from that checkout's zygote as the suite's ``run_cli`` does. The figure is the CPU (user + sys) the
zygote's children used, read from the zygote's reaped-children counters: what the suite pays per command
beyond the fork. Prints one line per root and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import os, sys, time
root, tmp, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, root); os.chdir(root)
from pathlib import Path
import psutil
from tests.conftest import run_cli
from tests.fixtures import zygote
from tests.integration.push_helpers import client_for, local_api, settings_text
Path(tmp).mkdir(parents=True, exist_ok=True)
with local_api(Path(tmp) / "index") as (server, key):
    client_for(server, key).create_source("synth")
    settings = Path(tmp) / "settings.yaml"
    settings.write_text(settings_text(server, "{count: 5, size: 100}"))
    run_cli("--version")  # starts the zygote: its own start-up is not counted
    z = psutil.Process(zygote._zygote.proc.pid)
    before, started = z.cpu_times(), time.monotonic()
    for _ in range(n):
        done = run_cli("crawl", "synth", "--full", "--settings", str(settings), "-q", env={"PUSH_TEST_KEY": key})
        assert done.returncode == 0, done.stderr
    after = z.cpu_times()
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    wall = time.monotonic() - started
    print(f"{root}: {n} crawls, child CPU {cpu:.2f} s ({cpu / n:.3f} per crawl), wall {wall:.1f} s")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--crawls", type=int, default=10)
    args = parser.parse_args()
    print("load before:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="zygote-bench-") as tmp:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, str(root.resolve()), str(Path(tmp, str(i))), str(args.crawls)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i, root in enumerate(args.roots)
        ]
        for proc in procs:
            out, _ = proc.communicate()
            print(out.strip() or f"failed: exit {proc.returncode}")
    print("load after:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
