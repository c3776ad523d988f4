"""The browser runs below the crawl's CPU priority (render.nice, connectors/render/priority.py), in real Chromium:
while the browser asks the site for pages, the autogroup of every Chromium process (Playwright starts Chromium
in a session of its own) has the lowered nice and the crawl's own is untouched; a browser launched again after
the memory bound is lowered too; ``nice: 0`` leaves the browser as it was. Chromium sets some of its processes'
own nice itself (0 for a renderer, -8 for another when run as root, seen here), so on a kernel without autogroups
only the processes it leaves alone stay lowered: that case is checked on the browser's main process only."""

from __future__ import annotations

import os

import psutil
import pytest

from connectors.render.priority import autogroup_nice
from tests.fixtures.base import Reply, Request
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.crawl import run_connector
from tests.integration.test_render_faults import ScriptSite

pytestmark = [pytest.mark.integration, pytest.mark.browser, NEEDS_CHROMIUM]


def chromium_priorities() -> list[tuple[int, int | None]]:
    """(nice, autogroup nice) of every Chromium process under this process (the crawl runs in process), the
    browser's main process (the one without ``--type=``) first."""
    out = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name():
                main = not any(a.startswith("--type=") for a in proc.cmdline())
                out.append((not main, proc.nice(), autogroup_nice(proc.pid)))
        except psutil.Error:
            continue
    return [(nice, group) for _, nice, group in sorted(out, key=lambda row: row[0])]


class PrioritySite(ScriptSite):
    """test_render_faults' site of script-built pages; each page request (made by the browser) notes the
    browser's priorities then."""

    def __init__(self, pages: int) -> None:
        super().__init__(pages)
        self.seen: list[list[tuple[int, int | None]]] = []

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/p/"):
            self.seen.append(chromium_priorities())
        return super().handle(request)


def crawl(site: PrioritySite, **render: object) -> dict[str, object]:
    options = {"sitemap_urls": [f"{site.base_url}/sitemap.xml"], "render": {"mode": "always", **render}}
    result = run_connector("sitemap", options, settings={"CONCURRENT_REQUESTS": 2})
    assert len(result.documents()) == site.pages
    assert all("written by script" in str(d.get("html") or "") for d in result.documents().values())
    return result.stats


def test_the_browser_runs_below_the_crawl_and_so_does_a_relaunched_one() -> None:
    ours = autogroup_nice(os.getpid())
    with PrioritySite(pages=6) as site:
        # 128 MB: passed with the first page, so the browser is closed and launched again during the crawl
        stats = crawl(site, max_browser_mb=128, max_concurrent=1, nice=7)
    assert stats["playwright/browser_count"] >= 2  # a second browser was launched: it must be lowered too
    assert len(site.seen) == 6 and all(site.seen)
    for processes in site.seen:
        groups = {group for _, group in processes}
        if groups == {None}:  # no autogroups: the browser's main process (the first one started) is lowered
            assert processes[0][0] >= 7
        else:
            assert groups and all(group is not None and group >= 7 for group in groups), processes
    assert autogroup_nice(os.getpid()) == ours  # the crawl's own priority is untouched
    assert os.nice(0) == 0


def test_nice_zero_leaves_the_browser_as_it_was() -> None:
    with PrioritySite(pages=2) as site:
        crawl(site, nice=0, max_concurrent=1)
    assert all(site.seen)
    assert {group for processes in site.seen for _, group in processes} <= {0, None}
    assert all(processes[0][0] == 0 for processes in site.seen)  # the browser's main process as started
