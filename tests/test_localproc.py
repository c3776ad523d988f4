"""The crawl's local Push API in a child process (crawler/localproc.py): it serves and acknowledges like the
embedded one, keeps what it acknowledged, runs outside the crawl's interpreter, forwards its log, ignores the
terminal's ^C, and stops when the crawl that started it dies, even by SIGKILL; a crawl whose child dies stops at
once (no retries against a server that cannot come back), sweeps nothing, and its next run pushes what was lost."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from crawler.config import load_settings
from crawler.localapi import LocalPushAPI
from crawler.localproc import LocalAPIProcess
from crawler.pushapi.client import PushApiClient
from crawler.pushapi.core import RetryPolicy
from crawler.targets import open_target
from tests.fixtures.sitemap_site import SitemapSite

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]
ROOT = Path(__file__).resolve().parent.parent


def _client(server: LocalAPIProcess, key: str) -> PushApiClient:
    base = server.base_url
    return PushApiClient(f"{base}/push/v1", f"{base}/rest", "pushcrawl-local", key, 10, RetryPolicy(1, 0.1, 0.1))


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_child_acknowledges_applies_and_keeps_items(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="crawler.localapi")
    server = LocalAPIProcess(tmp_path / "local", "pushcrawl-local", ["k-123"])
    server.start()
    pid = server.pid
    assert pid is not None and pid != os.getpid()
    try:
        client = _client(server, "k-123")
        source = str(client.create_source("docs")["id"])
        client.put_document(source, "https://x.test/a", {"data": "alpha gamma", "permissions": PUBLIC}, 1)
        assert server.wait_idle(20)
        os.kill(pid, signal.SIGINT)  # a ^C reaches the whole process group: the child leaves it to the crawl
        assert server.wait_idle(5) and client.search("gamma")["totalCount"] == 1
    finally:
        server.stop()
    assert _gone(pid, 5)
    # the child's log records reach this process's loggers, under their own names
    assert any(r.name == "crawler.localapi.server" and "listening" in r.getMessage() for r in caplog.records)
    embedded = LocalPushAPI(tmp_path / "local", api_keys=["k-2"])  # what was acknowledged is on disk
    with embedded.store.read() as db:
        assert db.execute("SELECT document_id FROM items").fetchall()[0][0] == "https://x.test/a"
    embedded.store.close()


def test_child_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError, match="did not start"):
        LocalAPIProcess(tmp_path / "file", "pushcrawl-local", ["k"]).start()


def test_child_stops_when_its_crawl_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from crawler.localproc import LocalAPIProcess
        server = LocalAPIProcess(Path({str(tmp_path / "local")!r}), "pushcrawl-local", ["k"])
        server.start()
        print(server.pid, flush=True)
        time.sleep(120)
    """)
    crawl = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert crawl.stdout is not None
    child = int(crawl.stdout.readline())
    crawl.kill()  # SIGKILL: no clean-up runs in the crawl
    crawl.wait()
    assert _gone(child, 20), "the local Push API child outlived its crawl"


def test_child_that_dies_is_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = LocalAPIProcess(tmp_path / "local", "pushcrawl-local", ["k"])
    server.start()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(r.levelno == logging.ERROR for r in caplog.records):
        time.sleep(0.05)
    assert not server.wait_idle(1)
    server.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "exited (status -9) while the crawl still needed it" in errors[0]


def _localapi_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("localapi-") and "reader" not in t.name]


@pytest.mark.parametrize(("process", "in_crawl"), [("child", False), ("thread", True)])
def test_crawl_target_runs_outside_the_crawl_by_default(tmp_path: Path, process: str, in_crawl: bool) -> None:
    extra = "" if process == "child" else ", process: thread"
    path = tmp_path / "settings.yaml"
    path.write_text(
        f"target: local\ntargets:\n  local: {{kind: local, data_dir: {tmp_path}/local{extra}}}\n"
        f"state_dir: {tmp_path}/state\nsites:\n  s:\n    connector: sitemap\n"
        "    options: {sitemap_urls: [http://127.0.0.1:9/sitemap.xml]}\n"
    )
    before = set(_localapi_threads())
    opened = open_target(load_settings(str(path)), "s")
    try:
        assert bool(set(_localapi_threads()) - before) is in_crawl
        assert opened.wait_idle(10) and opened.client.list_sources()[0]["name"] == "s"
    finally:
        opened.close()


def test_the_api_key_is_in_neither_the_childs_command_line_nor_its_environment_nor_its_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # other users of the machine can read a process's command line (ps), and its environment is inherited by
    # whatever it starts: the key travels on the child's stdin only
    key = "k-secret-4f1d9c"
    caplog.set_level(logging.DEBUG)
    server = LocalAPIProcess(tmp_path / "local", "pushcrawl-local", [key])
    server.start()
    try:
        pid = server.pid
        assert pid is not None
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"crawler.localproc" in cmdline  # it is the child we think
        assert key.encode() not in cmdline and key.encode() not in environ
        client = _client(server, key)
        client.create_source("docs")  # the key works, so it did reach the child
        assert server.wait_idle(20)
    finally:
        server.stop()
    assert caplog.records and not any(key in r.getMessage() for r in caplog.records)


def _crawl(settings: Path) -> subprocess.Popen[str]:
    cli = [sys.executable, "-m", "crawler.cli", "crawl", "s", "--full", "--settings", str(settings)]
    return subprocess.Popen(cli, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_a_crawl_whose_child_dies_stops_at_once_keeps_everything_and_the_next_run_pushes_it(tmp_path: Path) -> None:
    # retries as slow as a real outage allows (five attempts from 20 s): a run that retried the dead child would
    # take minutes where the test gives it 30 s
    site = SitemapSite(pages=40)
    site.delay = 0.05
    site.start()
    path = tmp_path / "settings.yaml"
    path.write_text(
        f"target: local\ntargets:\n  local: {{kind: local, data_dir: {tmp_path}/local}}\n"
        f"state_dir: {tmp_path}/state\n"
        "push: {batch_max_items: 4, retry_max_attempts: 5, retry_backoff_base_s: 20}\n"
        f"sites:\n  s:\n    connector: sitemap\n    options: {{sitemap_urls: ['{site.base_url}/sitemap.xml']}}\n"
        "    scrapy: {CONCURRENT_REQUESTS: 2, AUTOTHROTTLE_ENABLED: false}\n"
    )
    try:
        crawl = _crawl(path)
        deadline = time.monotonic() + 60
        child = None
        while child is None and time.monotonic() < deadline:
            kids = psutil.Process(crawl.pid).children(recursive=True) if crawl.poll() is None else []
            child = next((k for k in kids if "crawler.localproc" in k.cmdline()), None)
            time.sleep(0.05)
        assert child is not None, "no local Push API child"
        while site.hits_pages() < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        child.kill()
        killed = time.monotonic()
        _, err = crawl.communicate(timeout=30)
        stopped_after = time.monotonic() - killed
        assert crawl.returncode not in (0, None), err
        assert stopped_after < 20, f"the crawl went on {stopped_after:.0f} s after its child died"
        assert f"the local Push API child process {child.pid} exited (status -9)" in err
        assert "nothing swept" in err and "retry" not in err
        assert site.hits_pages() < 40, "the run crawled on after its target was gone"

        site.delay = 0.0
        rerun = _crawl(path)
        _, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
    finally:
        site.stop()
    local = LocalPushAPI(tmp_path / "local", api_keys=["k"])
    try:
        with local.store.read() as db:
            indexed = {row[0] for row in db.execute("SELECT document_id FROM items")}
    finally:
        local.store.close()
    assert indexed == {site.url(f"page-{n}") for n in range(40)}
