"""Dry runs and progress output, against the fixture CMS only (a dry run opens no target)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures import zygote
from tests.fixtures.sitemap_site import SitemapSite

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture
def site() -> Iterator[SitemapSite]:
    s = SitemapSite(pages=12).start()
    yield s
    s.stop()


def _settings(tmp_path: Path, site: SitemapSite, scrapy: str = "") -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(
        f"""
state_dir: state
targets: {{local: {{kind: local, data_dir: index}}}}
sites:
  cms:
    connector: sitemap
    options: {{sitemap_urls: ["{site.sitemap_url}"]}}
    scrapy: {{AUTOTHROTTLE_ENABLED: false, RETRY_ENABLED: false{scrapy}}}
""",
        encoding="utf-8",
    )
    return path


def _argv(settings: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "crawl", "cms", "--settings", str(settings), *args]


def _env() -> dict[str, str]:
    # CI=true turns the live line off on purpose (CI logs are not terminals): these tests choose for themselves
    return {**{k: v for k, v in os.environ.items() if k != "CI"}, "PYTHONPATH": str(ROOT)}


def test_dry_run_counts_and_listing_failure(tmp_path: Path, site: SitemapSite) -> None:
    settings = _settings(tmp_path, site)
    ok = zygote.run(_argv(settings, "--full", "--dry-run")[3:], cwd=Path.cwd(), env=_env())
    assert ok.returncode == 0, ok.stderr
    assert "would push 12, would delete 0" in ok.stderr
    assert ok.stdout.count('"documentId"') == 12
    assert not (tmp_path / "index").exists()  # no target was started

    site.fail_listing(0)
    bad = zygote.run(_argv(settings, "--full", "--dry-run")[3:], cwd=Path.cwd(), env=_env())
    assert bad.returncode == 1
    assert "listing page(s) failed" in bad.stderr and "sitemap-0.xml" in bad.stderr


def test_progress_log_lines_when_not_a_terminal(tmp_path: Path, site: SitemapSite) -> None:
    site.delay = 0.15
    settings = _settings(tmp_path, site, ", CONCURRENT_REQUESTS: 1, PUSHCRAWL_PROGRESS_INTERVAL: 0.5")
    run = zygote.run(_argv(settings, "--dry-run")[3:], cwd=Path.cwd(), env=_env())
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if "progress:" in line]
    assert len(lines) >= 2, run.stderr[-2000:]
    # fetched of the total (12 pages + 3 sitemap files), then what reached the index, and the rate
    assert re.search(r"fetched \d+/15 \(\d+%\) · queued \d+ · acknowledged \d+ · unchanged \d+ · errors 0", lines[-1])
    assert "pages/s" in lines[-1]
    assert "\r" not in run.stderr


def test_live_progress_line_on_a_terminal(tmp_path: Path, site: SitemapSite) -> None:
    site.delay = 0.2
    settings = _settings(tmp_path, site, ", CONCURRENT_REQUESTS: 1")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        _argv(settings, "--dry-run", "--log-level", "WARNING"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=_env(),
    )
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(30)
    os.close(leader)
    text = out.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert text.count("\r") >= 2  # redrawn in place
    # tqdm's line: pages of the sitemap's total, rate and ETA, then our counts
    assert re.search(r"cms: \d+/15 pages +\d+% \|.*\| .*pages/s · ETA [\d:?]+, queued \d+ · acknowledged \d+", text)
    assert "would push 12" in text  # the summary still closes the run
