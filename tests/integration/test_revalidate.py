"""Revalidation end to end (crawler.revalidate): the real CLI crawls a site served by nginx, twice and more.

nginx answers conditional GETs strictly (tests/fixtures/nginx_site.py). The second run of an unchanged page
costs a 304 (no body: the access log says so), pushes nothing and deletes nothing; an edited page is fetched
and pushed; a page linked only from an unchanged page is still found (its links come from the stored body);
a page whose push was never acknowledged is pushed again even though the server answers 304; ``--full``
fetches every page in full; ``revalidate: false`` turns it off; ``purge`` forgets the stored pages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from crawler import revalidate
from tests.conftest import cli_in_process, read_report, run_cli
from tests.connectors.e2e import Site
from tests.fixtures.nginx_site import NginxSite
from tests.integration.push_helpers import local_api, target_yaml


def page(title: str, text: str, links: list[str] = ()) -> str:  # type: ignore[assignment]
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    head = f"<html><head><title>{title}</title></head>"
    filler = "<p>" + "trail notes " * 400 + "</p>"  # ~5 KB: a page's body outweighs a 304's headers
    return f"{head}<body><main><h1>{title}</h1><p>{text}</p>{filler}<ul>{anchors}</ul></main></body></html>"


def build(site: NginxSite) -> None:
    site.write("index.html", page("Home", "The trail club's home page.", ["a.html", "b.html", "hub.html"]))
    site.write("a.html", page("Alpha", "Alpha ridge is steep."))
    site.write("b.html", page("Bravo", "Bravo lake is cold."))
    # links a page that does not exist yet: the next run must find it through this unchanged page
    site.write("hub.html", page("Hub", "Where the paths meet.", ["new.html"]))


def statuses(site: NginxSite, since: int) -> dict[str, int]:
    """Path → HTTP status of the requests nginx logged after the first ``since`` lines."""
    out: dict[str, int] = {}
    for line in site.requests()[since:]:
        if m := re.search(r'"GET (\S+) HTTP/1\.1" (\d{3})', line):
            out[m.group(1)] = int(m.group(2))
    return out


def http(report: dict[str, Any]) -> dict[str, int]:
    return dict(report["extra"].get("http", {}))


def make(tmp_path: Path, srv: NginxSite, **options: Any) -> Site:
    opts = {"start_urls": [f"{srv.base_url}/"], "max_depth": 3, "autothrottle": False, **options}
    return Site.create(tmp_path, "trails", "web", opts, security="everyone")


@pytest.mark.heavy  # five crawls and a purge: 35-76 s at load 11-15 (`pytest -m heavy`, run by .ci/run)
def test_second_run_revalidates_finds_new_pages_and_fetches_edits(tmp_path: Path) -> None:
    with NginxSite(tmp_path) as srv:
        build(srv)
        site = make(tmp_path, srv)
        first = site.crawl()
        assert first["counts"]["pushed"] == 4, first

        mark = len(srv.requests())
        srv.write("b.html", page("Bravo", "Bravo lake froze over last night."), age_s=60)  # an edit
        srv.write("new.html", page("New", "A new shelter by the lake."))
        second = site.crawl()
        got = statuses(srv, mark)
        assert got["/"] == got["/a.html"] == got["/hub.html"] == 304, got
        assert got["/b.html"] == 200 and got["/new.html"] == 200, got
        assert http(second)["not_modified"] == 3, second
        assert second["counts"]["pushed"] == 2, second  # the edit and the page found through the stored hub
        assert second["counts"]["unchanged"] == 3 and second["counts"]["deleted"] == 0, second
        assert "froze" in json.dumps(site.search("froze")) and site.uris("shelter") == {f"{srv.base_url}/new.html"}

        third = site.crawl()  # nothing changed: every page a 304, nothing pushed, nothing deleted
        assert http(third)["not_modified"] == 5, third
        assert third["counts"]["pushed"] == 0 and third["counts"]["deleted"] == 0, third
        assert third["counts"]["unchanged"] == 5 and third["status"] == "finished", third
        # five 304s (headers only) against two pages downloaded in full
        assert http(third)["downloaded_bytes"] < 2_000 < 10_000 < http(second)["downloaded_bytes"], (second, third)

        mark = len(srv.requests())
        full = site.crawl("--full")  # a full reindex re-reads the source
        assert set(statuses(srv, mark).values()) == {200, 404}, statuses(srv, mark)  # 404: robots.txt
        assert full["counts"]["pushed"] == 5 and full["counts"]["deleted"] == 0, full

        cache = revalidate.cache_file(tmp_path / ".pushcrawl", "local/trails")
        assert cache.exists()
        result = cli_in_process("purge", "trails", "--yes", "--settings", site.settings)
        assert result.returncode == 0 and not cache.exists(), result.stderr


def test_a_page_whose_push_was_not_acknowledged_is_pushed_on_a_304(tmp_path: Path) -> None:
    """The stored page stands in for the download, never for the acknowledgement: the fingerprint decides."""
    with NginxSite(tmp_path) as srv:
        build(srv)
        settings = tmp_path / "settings.yaml"
        options = json.dumps({"start_urls": [f"{srv.base_url}/"], "autothrottle": False})

        def crawl(faults: str | None) -> dict[str, Any]:
            with local_api(tmp_path / "index", faults) as (server, key):
                settings.write_text(
                    target_yaml(server, "trails")
                    + f"\npush: {{retry_max_attempts: 1}}\nsites:\n  trails: {{connector: web, options: {options}}}\n"
                )
                env = {"PUSH_TEST_KEY": key}
                if faults:  # the first run: the source a Coveo target needs
                    made = cli_in_process("sources", "create", "trails", "--settings", str(settings), env=env)
                    assert made.returncode == 0, made.stderr
                report = tmp_path / "report.json"
                result = run_cli("crawl", "trails", "--settings", str(settings), "--report", str(report), env=env)
                if not faults:  # the summary says what revalidation did
                    assert "revalidated: 4 not modified (304)" in result.stderr, result.stderr[-3000:]
                return read_report(report)

        first = crawl("5xx=1@batch")  # every batch refused: nothing acknowledged
        assert first["counts"]["pushed"] == 0 and first["status"] != "finished", first
        second = crawl(None)
        assert http(second)["not_modified"] == 4, second  # the server says unchanged...
        assert second["counts"]["pushed"] == 4, second  # ...but nothing was acknowledged: all pushed


def test_revalidate_false_downloads_every_page(tmp_path: Path) -> None:
    with NginxSite(tmp_path) as srv:
        build(srv)
        site = make(tmp_path, srv, revalidate=False)
        site.crawl()
        mark = len(srv.requests())
        second = site.crawl()
        assert 304 not in statuses(srv, mark).values() and "http" not in second["extra"], second
        assert second["counts"]["unchanged"] == 4 and second["counts"]["pushed"] == 0, second
