"""Run one connector for real (Scrapy CrawlerProcess) and dump its items and run report as JSON lines.

Used by spider tests through a subprocess, so every run gets a fresh Twisted reactor::

    python -m tests.spider_runner connectors.wordpress.spider:WordPressConnector OPTIONS_JSON OUT.jsonl \
        [--mode incremental --since CURSOR]

The last line of OUT.jsonl is ``{"kind": "summary", "listed_ids": [...], "new_cursor": ..., ...}``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from connectors import registry
from crawler.model import is_item


def dump(item: Any) -> str:
    """One item as a JSON line; binary content is summarised (size and first bytes)."""
    assert is_item(item), f"spider yielded a non-item: {item!r}"
    data = item.model_dump(mode="json", exclude={"binary"})
    if getattr(item, "binary", None) is not None:
        data["binary_size"] = len(item.binary)
        data["binary_head"] = item.binary[:8].decode("latin-1")
    return json.dumps(data)


def run(ref: str, options: dict[str, Any], out: Path, mode: str, since: str | None) -> None:
    cls = registry.load(ref)
    opts = cls.Options.model_validate(options)
    lines: list[str] = []
    process = CrawlerProcess({"LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False})
    crawler = process.create_crawler(cls)

    def scraped(item: Any, **_: Any) -> None:
        lines.append(dump(item))

    crawler.signals.connect(scraped, signal=signals.item_scraped, weak=False)
    process.crawl(crawler, options=opts, site="test", mode=mode, since=since)
    process.start()
    spider = crawler.spider
    stats = crawler.stats.get_stats() if crawler.stats else {}
    summary = {
        "kind": "summary",
        "listed_ids": sorted(spider.listed_ids),
        "new_cursor": spider.new_cursor,
        "listing_errors": spider.listing_errors,
        "stats": {k: v for k, v in stats.items() if isinstance(v, int | float | str)},
    }
    out.write_text("\n".join([*lines, json.dumps(summary)]) + "\n", encoding="utf-8")


def run_in_subprocess(
    ref: str, options: dict[str, Any], out: Path, mode: str = "full", since: str | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the connector in a fresh interpreter; return (items, summary)."""
    cmd = [sys.executable, "-m", "tests.spider_runner", ref, json.dumps(options), str(out), "--mode", mode]
    if since:
        cmd += ["--since", since]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]
    return lines[:-1], lines[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ref")
    parser.add_argument("options")
    parser.add_argument("out", type=Path)
    parser.add_argument("--mode", default="full")
    parser.add_argument("--since")
    args = parser.parse_args()
    run(args.ref, json.loads(args.options), args.out, args.mode, args.since)


if __name__ == "__main__":
    main()
