"""Side-by-side benchmark of the local search: today's implementation (a git ref) against this tree.

    .venv/bin/python bench/search_compare.py [--old main] [--items 100000] [--searches 100]

Exports ``--old`` with ``git archive`` into a temporary directory and runs bench/localapi_ingest.py (this
tree's copy, so both sides get the same items and queries) once with that export first on ``PYTHONPATH``
and once with this tree, one after the other in fresh processes; then prints ingest and search p50/p95 for
both and the ratios old/new (above 1: the new code is faster). The load average before each run is printed
too: on a shared machine it moves the figures as much as the code does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _export(ref: str, into: Path) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True, check=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return commit.stdout.strip()


def _run(code_root: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(code_root))
    cmd = [sys.executable, str(ROOT / "bench" / "localapi_ingest.py"), "--json"]
    cmd += ["--items", str(args.items), "--batch", str(args.batch), "--searches", str(args.searches)]
    load = os.getloadavg()[0]
    out = subprocess.run(cmd, env=env, cwd=code_root, capture_output=True, text=True, check=True).stdout
    figures = dict(json.loads(out.strip().splitlines()[-1]))
    figures["load_before"] = load
    figures["load_after"] = os.getloadavg()[0]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", default="main", help="git ref of today's implementation (default main)")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--searches", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_root = Path(tmp)
        commit = _export(args.old, old_root)
        old = _run(old_root, args)
        new = _run(ROOT, args)
    print(f"items: {args.items:,}, {args.searches} searches per kind; old = {args.old} ({commit}), new = this tree")
    print(
        f"load average before/after: old {old['load_before']:.1f}/{old['load_after']:.1f}, "
        f"new {new['load_before']:.1f}/{new['load_after']:.1f} ({os.cpu_count()} CPUs)"
    )
    print(f"{'':40} {'old':>10} {'new':>10} {'old/new':>8}")
    print(
        f"{'ingest items/s':40} {old['items_per_s']:10,.0f} {new['items_per_s']:10,.0f} "
        f"{new['items_per_s'] / old['items_per_s']:8.2f}x (new/old)"
    )
    for kind, o in old["search"].items():
        n = new["search"][kind]
        for stat in ("p50", "p95"):
            print(f"{kind + ' ' + stat + ' ms':40} {o[stat]:10.1f} {n[stat]:10.1f} {o[stat] / n[stat]:8.1f}x")
        print(f"{kind + ' avg totalCount':40} {o['avg_total']:10,.0f} {n['avg_total']:10,.0f}")


if __name__ == "__main__":
    main()
