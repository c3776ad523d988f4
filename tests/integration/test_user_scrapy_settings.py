"""A site's own Scrapy settings win over a connector's defaults, end to end through ``pushcrawl crawl``.

The API connectors (and ``web``) ship polite ``custom_settings`` (four requests per host, three retries,
AutoThrottle). Scrapy ranks a spider's ``custom_settings`` above the settings a process is created with, so a
user's ``scrapy: {CONCURRENT_REQUESTS_PER_DOMAIN: 1}`` — or ``-s CONCURRENT_REQUESTS_PER_DOMAIN=1`` — was
silently replaced by the connector's 4. A site that asks for one request at a time must get exactly that. The
fixture counts requests in flight at once; each page answers slowly enough that a second request would overlap.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.conftest import run_cli
from tests.fixtures.base import FixtureServer, Reply, Request

PAGES = 8
DELAY_S = 0.15


class SlowSite(FixtureServer):
    """``/`` links ``/p0.html`` … ``/p7.html``; every answer takes ``DELAY_S``; ``most`` is the peak overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.most = 0
        self._count = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self._count:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            time.sleep(DELAY_S)
            if request.path == "/robots.txt":
                return Reply(404, b"", "text/plain")
            if request.path == "/":
                links = "".join(f'<li><a href="/p{n}.html">Page {n}</a></li>' for n in range(PAGES))
                body = f"<html><head><title>Home</title></head><body><main><ul>{links}</ul></main></body></html>"
                return Reply(200, body, "text/html; charset=utf-8")
            name = request.path.strip("/").removesuffix(".html")
            text = f"Page {name} of the slow site, long enough to be main content for the extractor. " * 4
            body = f"<html><head><title>{name}</title></head><body><main><p>{text}</p></main></body></html>"
            return Reply(200, body, "text/html; charset=utf-8")
        finally:
            with self._count:
                self.in_flight -= 1


def _crawl(tmp_path: Path, site: SlowSite, *extra: str) -> None:
    tmp_path.mkdir()
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "target: local\n"
        "targets:\n  local: {kind: local, data_dir: local-index}\n"
        "state_dir: state\n"
        "sites:\n  slow:\n    connector: web\n"
        f"    options: {{start_urls: ['{site.base_url}/'], max_depth: 1}}\n",
        encoding="utf-8",
    )
    result = run_cli("crawl", "slow", "--full", "--settings", str(settings), *extra, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_sites_per_domain_limit_beats_the_connectors_default(tmp_path: Path) -> None:
    with SlowSite() as polite:
        _crawl(tmp_path / "default", polite)
    # the measurement can see overlap: with the connector's own limit (4) the eight pages overlap
    assert polite.most > 1
    with SlowSite() as strict:
        _crawl(tmp_path / "one", strict, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    assert strict.most == 1
    assert len(strict.hits("/p")) == PAGES  # every page was still fetched
