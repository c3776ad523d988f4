"""Side-by-side benchmark of the local search: today's implementation (a git ref) against this tree.

    .venv/bin/python bench/search_compare.py [--old main [--old REF2 ...]] [--items 100000] [--searches 100]
        [--rounds 1]

Exports ``--old`` with ``git archive`` into a temporary directory and runs bench/localapi_ingest.py (this
tree's copy, so both sides get the same items and queries) once with that export first on ``PYTHONPATH``
and once with this tree, one after the other in fresh processes; then prints ingest and search p50/p95 for
both and the ratios old/new (above 1: the new code is faster). ``--old`` may be given more than once (e.g.
the commit before tantivy and main): each is run and compared with this tree in the same run. The load
average before each run is printed too: on a shared machine it moves the figures as much as the code does;
``--rounds N`` runs every side N times, interleaved, and prints medians (the load range over all rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def _median(figures: list[dict[str, Any]]) -> dict[str, Any]:
    """Each number the median over the rounds (nested dicts alike); the load: lowest before, highest after."""
    first = figures[0]
    out: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            out[key] = _median([f[key] for f in figures])
        elif key == "load_before":
            out[key] = min(f[key] for f in figures)
        elif key == "load_after":
            out[key] = max(f[key] for f in figures)
        elif isinstance(value, int | float):
            out[key] = statistics.median(f[key] for f in figures)
        else:
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--old", action="append", help="git ref of an earlier implementation (default main); repeatable"
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="runs per side, interleaved; medians are printed")
    args = parser.parse_args()
    refs = args.old or ["main"]
    with tempfile.TemporaryDirectory() as tmp:
        exports = [(f"{ref} ({_export(ref, Path(tmp) / str(n))})", Path(tmp) / str(n)) for n, ref in enumerate(refs)]
        # rounds interleave the sides (old, new, old, new...): on a shared machine the load drifts, and each
        # figure is the median of its rounds, so no side gets only the quiet or only the busy minutes
        runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.rounds):
            for name, root in [*exports, ("new", ROOT)]:
                runs.setdefault(name, []).append(_run(root, args))
    olds = [(name, _median(runs[name])) for name, _ in exports]
    new = _median(runs["new"])
    print(
        f"items: {args.items:,}, {args.searches} searches per kind; new = this tree; {os.cpu_count()} CPUs;"
        f" medians of {args.rounds} interleaved round(s)"
    )
    for name, old in olds:
        print(f"old = {name}: load average before/after {old['load_before']:.1f}/{old['load_after']:.1f}")
    print(f"new: load average before/after {new['load_before']:.1f}/{new['load_after']:.1f}")
    names = [name.split(" ")[0] for name, _ in olds]
    print(
        f"{'':40}"
        + "".join(f" {n[:10]:>10}" for n in names)
        + f" {'new':>10}"
        + "".join(f" {'/' + n[:7]:>8}" for n in names)
    )
    rate = [o["items_per_s"] for _, o in olds]
    print(
        f"{'ingest items/s (ratio new/old)':40}"
        + "".join(f" {r:10,.0f}" for r in rate)
        + f" {new['items_per_s']:10,.0f}"
        + "".join(f" {new['items_per_s'] / r:7.2f}x" for r in rate)
    )
    cpu = [o.get("ingest_cpu_s") for _, o in olds]
    if all(cpu) and new.get("ingest_cpu_s"):
        print(
            f"{'ingest CPU s (ratio old/new)':40}"
            + "".join(f" {c:10.1f}" for c in cpu)
            + f" {new['ingest_cpu_s']:10.1f}"
            + "".join(f" {c / new['ingest_cpu_s']:7.2f}x" for c in cpu)
        )
    for kind, n in new["search"].items():
        for stat in ("p50", "p95", "cpu_ms"):
            if stat not in n or not all(stat in o["search"][kind] for _, o in olds):
                continue
            values = [o["search"][kind][stat] for _, o in olds]
            print(
                f"{kind + ' ' + stat + ' ms (old/new)':40}"
                + "".join(f" {v:10.1f}" for v in values)
                + f" {n[stat]:10.1f}"
                + "".join(f" {v / n[stat]:7.1f}x" for v in values)
            )
        totals = [o["search"][kind]["avg_total"] for _, o in olds]
        print(f"{kind + ' avg totalCount':40}" + "".join(f" {t:10,.0f}" for t in totals) + f" {n['avg_total']:10,.0f}")


if __name__ == "__main__":
    main()
