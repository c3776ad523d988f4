"""What a person sees when running a crawl: a quiet terminal by default, the whole log in a per-run file,
-q / -v, --json, -s with Scrapy setting names, and the dry-run output (the live line on a terminal:
tests/runs/test_dry_progress.py).

Every test runs the real CLI in a subprocess against the bundled demo site into the embedded local Push API.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, demo_settings, run_cli

pytestmark = pytest.mark.integration


_settings = demo_settings


def _log_path(stderr: str, tmp_path: Path) -> Path:
    match = re.search(r"^  log:   (\S+)$", stderr, re.MULTILINE)
    assert match, stderr
    path = Path(match.group(1))
    return path if path.is_absolute() else ROOT / path


def test_default_output_is_short_and_the_whole_log_is_in_the_run_file(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    run = run_cli("crawl", "demo", "--settings", str(settings))
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) <= 10, run.stderr
    assert "Overridden settings" not in run.stderr and "[scrapy." not in run.stderr
    assert "pushcrawl: demo (incremental run) finished" in run.stderr
    log = _log_path(run.stderr, tmp_path)
    assert log.parent == tmp_path / "state" / "logs"
    text = log.read_text(encoding="utf-8")
    assert "Spider closed (finished)" in text  # Scrapy's own log, which the terminal no longer shows
    assert "local Push API listening" in text  # and our records from before the crawler started


def test_quiet_prints_the_summary_only_and_verbose_the_whole_log(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    # a Scrapy setting name through -s: progress lines every 0.2 s, so a normal run would print some
    fast = ["-s", "PUSHCRAWL_PROGRESS_INTERVAL=0.2", "-s", "DOWNLOAD_DELAY=0.05"]
    normal = run_cli("crawl", "demo", "--full", "--settings", str(settings), *fast)
    assert normal.returncode == 0, normal.stderr
    assert "progress: fetched " in normal.stderr  # not a terminal: plain lines, no carriage returns
    assert "\r" not in normal.stderr
    assert re.search(r"progress: fetched \d+/\d+ \(\d+%\) · queued \d+ · acknowledged \d+", normal.stderr)
    log = _log_path(normal.stderr, tmp_path).read_text(encoding="utf-8")
    assert "'DOWNLOAD_DELAY': 0.05" in log  # the Scrapy setting reached the site's crawler

    quiet = run_cli("crawl", "demo", "--full", "-q", "--settings", str(settings), *fast)
    assert quiet.returncode == 0, quiet.stderr
    assert "progress:" not in quiet.stderr
    assert quiet.stderr.strip().startswith("pushcrawl: demo (full run) finished")

    verbose = run_cli("crawl", "demo", "-v", "--settings", str(settings))
    assert verbose.returncode == 0, verbose.stderr
    assert "Spider closed (finished)" in verbose.stderr and "[scrapy.core.engine] INFO" in verbose.stderr


def test_json_prints_the_report_on_stdout(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    run = run_cli("crawl", "demo", "--json", "--settings", str(settings))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["status"] == "finished" and report["counts"]["pushed"] >= 30
    assert report["log_file"].endswith(".log")
    dash = run_cli("crawl", "demo", "--report", "-", "--settings", str(settings), cwd=tmp_path)
    assert dash.returncode == 0, dash.stderr
    assert json.loads(dash.stdout)["counts"]["pushed"] == 0  # nothing changed
    assert not (tmp_path / "-").exists()  # not a file named "-"


def test_dry_run_says_why_it_prints_no_body_and_shows_binaries_as_size_and_hash(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert run_cli("crawl", "demo", "-q", "--settings", str(settings)).returncode == 0
    dry = run_cli("crawl", "demo", "--dry-run", "--settings", str(settings))
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("# nothing would be pushed or deleted: ")
    full = run_cli("crawl", "demo", "--dry-run", "--full", "--settings", str(settings))
    assert full.returncode == 0, full.stderr
    assert re.search(r'"compressedBinaryData": "<binary: [\d,]+ bytes compressed, sha256 [0-9a-f]{16}…>"', full.stdout)
    assert not re.search(r"[A-Za-z0-9+/]{200}", full.stdout)  # no wall of base64


def test_pages_are_indexed_with_filetype_html(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert run_cli("crawl", "demo", "-q", "--settings", str(settings)).returncode == 0
    page = json.loads(run_cli("search", "zephyrine", "--json", "--settings", str(settings)).stdout)
    pdf = json.loads(run_cli("search", "vellichor", "--json", "--settings", str(settings)).stdout)
    assert [r["raw"]["filetype"] for r in page["results"]] == ["html"]
    assert [r["raw"]["filetype"] for r in pdf["results"]] == ["pdf"]


def test_help_lists_every_exit_status() -> None:
    out = run_cli("crawl", "--help").stdout
    for code in ("0", "1", "2", "3", "75", "130"):
        assert re.search(rf"^  {code} +\S", out, re.MULTILINE), f"exit status {code} not in --help"
