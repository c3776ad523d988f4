"""A parked tab does not go on running its page (connectors.render.handler, PARK_IDLE_S), in real Chromium.

The site has two rendered pages that never rest (an animation-frame loop writing the DOM, a timer spinning every
50 ms, a CSS animation) and one plain page that answers only seconds after both were rendered. While the crawl
waits for that page, its two tabs sit parked: once PARK_IDLE_S has passed they are on about:blank, and the
browser's processes use next to no CPU. Left on their pages, the two tabs cost Chromium ~0.25 s of CPU a second
(measured), which the bound below would catch."""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from connectors.render.handler import PARK_IDLE_S
from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.crawl import run_connector

pytestmark = [pytest.mark.integration, pytest.mark.browser, NEEDS_CHROMIUM]

BUSY = (
    "<!doctype html><html><head><title>busy {n}</title><style>@keyframes turn{{to{{transform:rotate(360deg)}}}}"
    ".spin{{width:40px;height:40px;background:#c00;animation:turn 1s linear infinite}}</style></head><body>"
    "<div class='spin'></div><main><h1>Busy {n}</h1><p>{text}</p><p id='frames'></p></main><script>let n=0;"
    "(function frame(){{document.getElementById('frames').textContent=n++;requestAnimationFrame(frame);}})();"
    "setInterval(()=>{{let x=0;for(let i=0;i<100000;i++)x+=i;}},50);</script></body></html>"
)
#: seconds the plain page keeps the crawl going once both busy pages were fetched by the browser
HOLD_S = PARK_IDLE_S + 3.0


class IdleSite(FixtureServer):
    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[float] = []  # when the browser asked for each busy page
        self.both = threading.Event()

    def handle(self, request: Request) -> Reply:
        if request.path == "/sitemap.xml":
            urls = [f"{self.base_url}/busy/0", f"{self.base_url}/busy/1", f"{self.base_url}/slow"]
            locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            return Reply(200, xml, "application/xml")
        if request.path.startswith("/busy/"):
            self.fetched.append(time.monotonic())
            if len(self.fetched) == 2:
                self.both.set()
            n = request.path.rsplit("/", 1)[1]
            text = f"the text of busy page {n}, long enough to be the page's main content. " * 5
            return Reply(200, BUSY.format(n=n, text=text), "text/html; charset=utf-8")
        if request.path == "/slow":
            self.both.wait(30)
            time.sleep(HOLD_S)
            text = "served late, fetched plainly. " * 10
            body = f"<html><body><main><h1>Slow</h1><p>{text}</p></main></body></html>"
            return Reply(200, body, "text/html; charset=utf-8")
        return Reply(404, "not found", "text/plain")


def _chromium_cpu() -> float:
    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name():
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def test_tabs_parked_past_the_idle_time_leave_their_busy_pages() -> None:
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.monotonic(), _chromium_cpu()))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    with IdleSite() as site:
        sampler.start()
        try:
            result = run_connector(
                "sitemap",
                {
                    "sitemap_urls": [f"{site.base_url}/sitemap.xml"],
                    "render": {"mode": "always", "url_patterns": ["/busy/"], "max_concurrent": 2},
                },
                settings={"CONCURRENT_REQUESTS": 4},
            )
        finally:
            done.set()
            sampler.join(5)
    docs = {d.removeprefix(site.base_url): str(i.get("html") or "") for d, i in result.documents().items()}
    assert "the text of busy page 0" in docs["/busy/0"] and "the text of busy page 1" in docs["/busy/1"]
    assert "served late" in docs["/slow"]
    assert result.stats["pushcrawl/render/rendered"] == 2
    # each tab left its page once: two tabs, or one if the second render came after the first (then it took the
    # same tab within the idle time)
    assert result.stats.get("pushcrawl/render/tabs_blanked", 0) in (1, 2)
    # while the plain page is awaited: from PARK_IDLE_S + 1 s after the later busy page was asked for (rendered,
    # parked and left by then) to just before the plain page answers
    start, end = site.fetched[-1] + PARK_IDLE_S + 1.0, site.fetched[-1] + HOLD_S - 0.2
    window = [(t, cpu) for t, cpu in samples if start <= t <= end]
    assert len(window) >= 5, samples
    (t0, cpu0), (t1, cpu1) = window[0], window[-1]
    rate = (cpu1 - cpu0) / (t1 - t0)
    assert rate < 0.06, f"parked tabs kept running: Chromium used {rate:.2f} s of CPU a second"
