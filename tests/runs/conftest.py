"""Run-mode test bench: the fixture CMS (tests/fixtures/sitemap_site.py), a local Push API in this process
reached as an external user would (a ``kind: coveo`` target with ``base_url``/``platform_url``), and the real
CLI in a subprocess (Scrapy's reactor runs once per process).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from crawler.localapi import LocalPushAPI
from tests.fixtures import zygote
from tests.fixtures.sitemap_site import SitemapSite

ROOT = Path(__file__).resolve().parents[2]
ORG = "pushcrawl-local"
KEY = "test-key-runs"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults(spec): fault injection spec for the bench's local Push API")


@dataclass
class Bench:
    tmp: Path
    site: SitemapSite
    api: LocalPushAPI
    settings: Path
    source_id: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "PUSHCRAWL_TEST_KEY": KEY, "PYTHONPATH": str(ROOT)}

    def crawl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        report = self.tmp / "report.json"
        report.unlink(missing_ok=True)
        argv = ["crawl", "cms", "--report", str(report), *args, "--settings", str(self.settings)]
        # a process of its own, forked from the zygote (tests/fixtures/zygote.py): no re-import per crawl
        return zygote.run(argv, cwd=self.tmp, env=self.env(), timeout=timeout)

    def start(self, *args: str) -> zygote.Child:
        """``pushcrawl *args`` in the background (stderr into stdout), for the tests that kill or signal it:
        a real process of its own, forked from the zygote like ``crawl``'s."""
        return zygote.start([*args, "--settings", str(self.settings)], cwd=self.tmp, env=self.env(), merge=True)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command that crawls nothing (``runs``…), waited for."""
        return zygote.run([*args, "--settings", str(self.settings)], cwd=self.tmp, env=self.env())

    def report(self) -> dict[str, Any]:
        return dict(json.loads((self.tmp / "report.json").read_text()))

    def index(self) -> dict[str, str]:
        """document id → indexed body text, once the local Push API has applied every queued operation."""
        assert self.api.wait_idle(30), "the local Push API did not apply its queue"
        with self.api.store.read() as db:
            rows = db.execute(
                "SELECT i.document_id, f.body FROM items i JOIN items_fts f ON f.rowid = i.rid WHERE i.source_id=?",
                (self.source_id,),
            )
            return {r[0]: r[1] for r in rows.fetchall()}

    def assert_index_matches_cms(self) -> None:
        index = self.index()
        assert set(index) == self.site.current_ids()
        for slug, (_, text, _) in self.site.pages.items():
            assert text in index[self.site.url(slug)], slug

    def pushed_ids(self, ordering_id: int | None = None) -> list[str]:
        """Ids of every add/update the index received (optionally: with this ordering id)."""
        assert self.api.wait_idle(30)
        sql = "SELECT document_id FROM activity WHERE target=? AND operation='ADD_OR_UPDATE'"
        args: tuple[Any, ...] = (self.source_id,)
        if ordering_id is not None:
            sql += " AND ordering_id=?"
            args += (ordering_id,)
        with self.api.store.read() as db:
            return [r[0] for r in db.execute(sql, args).fetchall()]

    def state(self) -> sqlite3.Connection:
        return sqlite3.connect(self.tmp / "state" / "state.sqlite")


def write_bench_settings(path: Path, api_url: str, sitemap_url: str, extra_site: str = "") -> None:
    path.write_text(
        f"""
target: idx
targets:
  idx:
    kind: coveo
    base_url: {api_url}
    platform_url: {api_url}
    organization_id: {ORG}
    source: cms-source
    api_key: ${{PUSHCRAWL_TEST_KEY}}
state_dir: state
push:
  batch_max_items: 4
  max_in_flight: 1
  retry_backoff_base_s: 0.05
sites:
  cms:
    connector: sitemap
    options:
      sitemap_urls: ["{sitemap_url}"]
    max_deletions: 0.5
    scrapy: {{CONCURRENT_REQUESTS: 2, AUTOTHROTTLE_ENABLED: false, RETRY_ENABLED: false}}
{extra_site}""",
        encoding="utf-8",
    )


@pytest.fixture
def bench(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Bench]:
    site = SitemapSite(pages=24).start()
    # queue_delay_scale: one minute of queueDelay lasts 10 ms, so the 15-minute sweep delay is 0.15 s
    marker = request.node.get_closest_marker("faults")
    faults = marker.args[0] if marker else None
    api = LocalPushAPI(tmp_path / "index", org_id=ORG, api_keys=[KEY], queue_delay_scale=0.01, faults=faults)
    api.start()
    try:
        resp = requests.post(
            f"{api.base_url}/rest/organizations/{ORG}/sources",
            json={"sourceType": "PUSH", "pushEnabled": True, "name": "cms-source", "sourceVisibility": "SHARED"},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        resp.raise_for_status()
        settings = tmp_path / "settings.yaml"
        write_bench_settings(settings, api.base_url, site.sitemap_url)
        yield Bench(tmp_path, site, api, settings, resp.json()["id"])
    finally:
        site.stop()
        api.stop()


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
