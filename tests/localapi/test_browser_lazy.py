"""A crawl into the embedded local target never loads the Content Browser; the browser still serves its pages.

Every ``pushcrawl crawl`` into ``kind: local`` starts the local Push API in its own process, and no one browses
that server. It used to import every page module and Jinja2 with the server, and to warm the pages' caches
in a thread (templates compiled, facet counts read). Now the pages load on their first request
(crawler.localapi.browser.page) and only ``pushcrawl serve`` warms them. One fresh interpreter (other tests
of this process may have imported anything) crawls, then serves the same index and asks for pages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = """
target: local
targets:
  local: {kind: local, data_dir: index}
state_dir: state
sites:
  synth:
    connector: "tests.helpers.synthetic:SyntheticConnector"
    options: {count: 3, size: 300}
    security: {mode: everyone}
    extract: {detect_language: false}
"""
SCRIPT = """
import json, sys, urllib.request
from pathlib import Path
from crawler.cli import main

BROWSER = ("jinja2", "crawler.localapi.browse.render", "crawler.localapi.browse.sources",
           "crawler.localapi.browse.warm")
code = main(["crawl", "synth", "--settings", "settings.yaml"])
after_crawl = sorted(m for m in sys.modules if m.startswith(BROWSER))

from crawler.localapi import LocalPushAPI
pages = {}
with LocalPushAPI(Path("index"), warm_browser=False) as server:
    for path in ("/", "/browse/activity", "/login"):
        with urllib.request.urlopen(server.base_url + path) as answer:
            pages[path] = [answer.status, answer.read().decode()]
print(json.dumps({"code": code, "after_crawl": after_crawl, "pages": pages,
                  "jinja2_after_pages": "jinja2" in sys.modules}))
"""


def test_a_crawl_never_imports_the_content_browser_and_its_pages_still_load_on_request(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["code"] == 0
    assert out["after_crawl"] == []  # neither Jinja2 nor a page module, nor the warming thread's module
    status, sources_page = out["pages"]["/"]
    assert status == 200 and "synth" in sources_page and "<html" in sources_page.lower()
    assert out["pages"]["/browse/activity"][0] == 200
    assert out["pages"]["/login"][0] == 200  # the login form (a page's module too) loads on request
    assert out["jinja2_after_pages"] is True
