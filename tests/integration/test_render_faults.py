"""Rendering's bad cases left after tests/integration/test_render.py, in real Chromium, crawled in process: the
browser killed mid-run (relaunched, the page retried once, counted), and the memory bound (the browser restarted
when its processes pass ``max_browser_mb``, counted, no page lost)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psutil
import pytest

from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.crawl import run_connector

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.slow, NEEDS_CHROMIUM]

HTML = "text/html; charset=utf-8"
#: a page whose text exists only once its script ran
SHELL = (
    "<!doctype html><html><head><title>{name}</title><script>document.addEventListener('DOMContentLoaded',()=>"
    "{{document.getElementById('root').innerHTML='<main><h1>{name}</h1><p>written by script: {name} '"
    "+'wallaby '.repeat(40)+'</p></main>';}});</script></head><body><div id='root'></div></body></html>"
)


def kill_browser() -> int:
    """Kill this process's Chromium browser processes (the main ones, not their renderers): a crash."""
    killed = 0
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "chrom" in proc.name() and not any(a.startswith("--type=") for a in proc.cmdline()):
                proc.kill()
                killed += 1
        except psutil.Error:
            continue
    return killed


class ScriptSite(FixtureServer):
    """``/sitemap.xml`` lists ``/p/0``…``/p/<pages-1>``; with ``crash_at=N`` the first request for ``/p/N`` kills
    the browser that asked for it before answering."""

    def __init__(self, pages: int, crash_at: int | None = None) -> None:
        super().__init__()
        self.pages = pages
        self.crash_at = crash_at
        self.killed = 0

    def handle(self, request: Request) -> Reply:
        if request.path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base_url}/p/{n}</loc></url>" for n in range(self.pages))
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return Reply(200, xml, "application/xml")
        if request.path.startswith("/p/"):
            if self.crash_at is not None and request.path == f"/p/{self.crash_at}" and not self.killed:
                self.killed = kill_browser()
            return Reply(200, SHELL.format(name=f"page{request.path[3:]}"), HTML)
        return Reply(404, "not found", "text/plain")


def crawl(site: ScriptSite, **render: object) -> tuple[dict[str, str], dict[str, object]]:
    options = {"sitemap_urls": [f"{site.base_url}/sitemap.xml"], "render": {"mode": "always", **render}}
    result = run_connector("sitemap", options, settings={"CONCURRENT_REQUESTS": 2})
    texts = {
        d.removeprefix(site.base_url): str(i.get("html") or i.get("text") or "") for d, i in result.documents().items()
    }
    return texts, result.stats


@pytest.fixture
def crashing() -> Iterator[ScriptSite]:
    with ScriptSite(pages=6, crash_at=3) as server:
        yield server


def test_a_browser_killed_mid_run_is_relaunched_and_the_page_retried_once(crashing: ScriptSite) -> None:
    texts, stats = crawl(crashing, max_concurrent=1)
    assert crashing.killed >= 1  # the browser really died under the page
    assert stats["pushcrawl/render/browser_crashes"] == 1  # one crash, however many pages it took down
    assert stats["pushcrawl/render/crash_retries"] >= 1
    assert len(crashing.hits("/p/3")) == 2  # fetched, crashed, fetched once more
    assert sorted(texts) == [f"/p/{n}" for n in range(6)]
    assert "written by script: page3" in texts["/p/3"]  # the retried page was rendered, not kept as a shell


def test_the_memory_bound_restarts_the_browser_and_loses_no_page() -> None:
    # Chromium passes 128 MB with its first page. Memory is measured at most once a second, in a thread, while
    # the next pages render (connectors.render.browser.MEMORY_EVERY_S): pages must remain once the first
    # measure returns, or the restart comes after the last page and nothing relaunches (seen with 3 pages).
    # Restarts are then about one a second, not one per page, so eight pages cost two or three launches.
    with ScriptSite(pages=8) as site:
        texts, stats = crawl(site, max_browser_mb=128, max_concurrent=1)
    assert stats["pushcrawl/render/browser_restarts"] >= 1
    assert stats["playwright/browser_count"] >= 2  # really closed and launched again, not only counted
    assert stats["pushcrawl/render/browser_peak_mb"] > 128  # it did pass the bound, so the restarts were due
    assert sorted(texts) == [f"/p/{n}" for n in range(8)]
    assert all("written by script" in text for text in texts.values())


@pytest.mark.parametrize("kind", ["form", "basic"])
def test_behind_a_login_rendered_pages_get_the_session_and_other_hosts_get_nothing(kind: str) -> None:
    """form: the login filled in Chromium (``auth.render``), the session dropped mid-run and logged in again;
    basic: the browser answers the site's challenge. The home page links to a redirect to another host, which
    the browser follows by itself: that request carries neither credentials nor the session cookie."""
    from tests.fixtures.login_server import PASSWORD, USER, LoginSite

    with LoginSite(kind, expire_after=3 if kind == "form" else None) as site:
        if kind == "form":
            auth: dict[str, object] = {"kind": "form", "login_url": f"{site.base_url}/login", "username": USER}
            auth |= {"password": PASSWORD, "render": True}
        else:
            auth = {"kind": "basic", "username": USER, "password": PASSWORD}
        options = {
            "start_urls": [f"{site.base_url}/"],
            "auth": auth,
            "autothrottle": False,
            "render": {"mode": "always"},
        }
        result = run_connector("web", options)
        elsewhere = [r.headers for r in site.other.requests]
    found = sorted(d.removeprefix(site.base_url) for d in result.documents())
    assert [p for p in found if p.startswith("/")] == ["/", "/p/1", "/p/2", "/p/3", "/p/4", "/p/5", "/p/6"]
    assert result.stats["pushcrawl/render/rendered"] >= 7 and result.listing_errors == []
    if kind == "form":
        assert result.stats["pushcrawl/auth/relogins"] == 1 and site.logins == 3  # ping, crawl, crawl again
    assert elsewhere  # the browser did go there
    for headers in elsewhere:
        assert "authorization" not in headers and "cookie" not in headers
    assert PASSWORD not in result.log


def test_a_header_login_is_refused_with_rendering() -> None:
    """Chromium would carry a custom header through a redirect to another host (seen with X-Intranet-Token)."""
    from connectors.web.spider import WebConnector
    from crawler.errors import ConnectorError

    options = WebConnector.Options.model_validate(
        {
            "start_urls": ["http://127.0.0.1:9/"],
            "auth": {"kind": "header", "name": "X-Intranet-Token", "value": "tok-abcdef"},
            "render": {"mode": "auto"},
        }
    )
    with pytest.raises(ConnectorError, match="redirects to other hosts"):
        WebConnector.ping(options)
