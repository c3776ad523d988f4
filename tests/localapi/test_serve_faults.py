"""`pushcrawl serve` as a process (clean SIGTERM stop, data kept), queue persistence, fault injection."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from crawler.localapi import LocalPushAPI
from tests.localapi.conftest import Client

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]
# Only the serve command is registered: the other CLI commands live in other packages of the project.
SERVE = (
    "import argparse, sys; from crawler.commands import serve; p = argparse.ArgumentParser(); "
    "s = p.add_subparsers(); serve.register(s); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(data: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE,
            "serve",
            "--port",
            str(port),
            "--data",
            str(data),
            "--api-key",
            "k1",
            "--queue-delay-scale",
            "0.01",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/local/status", timeout=1)
            return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.communicate()[0])


def test_serve_process_keeps_data_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = start_serve(tmp_path / "d", port)
    base = f"http://127.0.0.1:{port}"
    hdr = {"Authorization": "Bearer k1", "Content-Type": "application/json"}
    r = requests.post(f"{base}/rest/organizations/pushcrawl-local/sources", json={"name": "s1"}, headers=hdr, timeout=5)
    src = r.json()["id"]
    requests.put(
        f"{base}/push/v1/organizations/pushcrawl-local/sources/{src}/documents",
        params={"documentId": "https://x.test/a"},
        json={"data": "kestrel"},
        headers=hdr,
        timeout=5,
    )
    deadline = time.monotonic() + 10
    while (
        requests.get(f"{base}/local/status", headers=hdr, timeout=5).json()["pending"] and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert requests.get(f"{base}/local/status", headers=hdr, timeout=5).json() == {"pending": 0, "items": {src: 1}}
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=15)[0]
    assert proc.returncode == 0 and "stopped" in out
    proc = start_serve(tmp_path / "d", port)
    try:
        found = requests.post(f"{base}/rest/search/v2", json={"q": "kestrel"}, headers=hdr, timeout=5).json()
        assert found["totalCount"] == 1
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


def test_pending_queue_survives_restart(tmp_path: Path) -> None:
    srv = LocalPushAPI(tmp_path / "d", processing_delay=30)
    srv.start()
    c = Client(srv, "dev")
    src = c.create_source("q")
    c.put_doc(src, "https://x.test/p", {"data": "marmot", "permissions": PUBLIC})
    assert srv.store.pending() == 1
    srv.stop()
    with __import__("sqlite3").connect(tmp_path / "d" / "localapi.sqlite3") as db:
        db.execute("UPDATE queue SET due = 0")  # pretend the 30 s passed while the server was down
    srv = LocalPushAPI(tmp_path / "d")
    srv.start()
    try:
        assert srv.wait_idle(10)
        assert Client(srv, "dev").search("marmot")["totalCount"] == 1
    finally:
        srv.stop()


@pytest.fixture
def faulty(tmp_path: Path, request: pytest.FixtureRequest) -> Client:
    srv = LocalPushAPI(tmp_path / "d", faults=request.param)
    srv.start()
    request.addfinalizer(srv.stop)
    return Client(srv, "dev")


@pytest.mark.parametrize("faulty", ["429=1,seed=1"], indirect=True)
def test_fault_429_only_on_push_routes(faulty: Client) -> None:
    src = faulty.create_source("f")  # Platform API: never faulted
    seen_retry_after = set()
    for _ in range(12):
        r = faulty.put_doc(src, "https://x.test/a", {"data": "x"})
        assert r.status_code == 429 and r.json()["errorCode"] in (
            "TOO_MANY_REQUESTS",
            "TOO_MANY_DOCUMENTS_DAILY",
        )
        seen_retry_after.add("Retry-After" in r.headers)
    assert seen_retry_after == {True, False}
    assert faulty.search("x")["totalCount"] == 0
    assert requests.get(f"{faulty.base}/local/status", timeout=5).status_code == 200
    assert requests.get(f"{faulty.base}/", timeout=5).status_code == 200


@pytest.mark.parametrize("faulty", ["reset=1@files,5xx=1@status"], indirect=True)
def test_fault_reset_and_5xx_per_route(faulty: Client) -> None:
    src = faulty.create_source("f")
    with pytest.raises(requests.ConnectionError):
        faulty.call("POST", f"{faulty.push}/files")
    r = faulty.call("POST", f"{faulty.push}/sources/{src}/status", statusType="REBUILD")
    assert r.status_code in (500, 503, 504)
    assert faulty.put_doc(src, "https://x.test/a", {"data": "x"}).status_code == 202


def test_bad_fault_spec() -> None:
    from crawler.localapi.faults import Faults

    for spec in ("bogus=1", "429=2", "429=0.1@nowhere", "429"):
        with pytest.raises(ValueError):
            Faults.parse(spec)
    assert len(Faults.parse("429=0.1,5xx=0.05,reset=0.05,latency=20").faults) == 4


def test_data_dir_from_first_version_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    from crawler.localapi.store import Store

    Store(tmp_path / "db").close()
    with sqlite3.connect(tmp_path / "db") as db:  # make it look like the milestone-1 schema
        db.execute("DROP INDEX items_perm")
        db.execute("ALTER TABLE items DROP COLUMN perm_id")
        db.execute(
            "INSERT INTO items(source_id, document_id, ordering_id, fields, collected, permissions, public,"
            " updated_ms) VALUES ('s', 'd', 1, '{}', '{}', '[]', 0, 0)"
        )
    store = Store(tmp_path / "db")
    with store.read() as db:
        row = db.execute("SELECT i.perm_id, p.body FROM items i JOIN perms p ON p.pid = i.perm_id").fetchone()
    store.close()
    assert row["body"] == "[]"
