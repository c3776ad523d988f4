"""PushApiClient retries against a tiny scripted stdlib HTTP server (each test scripts the answers in order).

Covers: 429 (both codes) and 5xx retried on every call including ``POST /files`` and the upload, Retry-After
honoured, dropped connections retried, a persistent 429 → QuotaExceeded, other 4xx final, an expired
container replaced by a fresh one, a spooled file streamed again on each attempt.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from crawler.errors import PushError, QuotaExceeded, TargetError, TargetGone
from crawler.pushapi.client import PushApiClient
from crawler.pushapi.core import RetryPolicy

Answer = tuple[int, dict[str, str], bytes] | str  # (status, headers, body) or "reset"


class Scripted(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: dict[str, list[Answer]] = {}  # "METHOD path-prefix" → answers, consumed in order
        self.seen: list[tuple[str, str, bytes, dict[str, str]]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append((self.command, self.path, body, dict(self.headers)))
        answer: Answer = (200, {}, b"{}")
        for key, answers in self.server.script.items():
            method, prefix = key.split(" ", 1)
            if method == self.command and self.path.startswith(prefix) and answers:
                answer = answers.pop(0)
                break
        if answer == "reset":
            self.connection.shutdown(2)
            self.close_connection = True
            return
        assert not isinstance(answer, str)
        status, headers, payload = answer
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def err(status: int, code: str, headers: dict[str, str] | None = None) -> Answer:
    return (status, headers or {}, json.dumps({"errorCode": code, "message": "scripted"}).encode())


@pytest.fixture
def server() -> Iterator[Scripted]:
    srv = Scripted()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def container(srv: Scripted, n: int = 1) -> Answer:
    body = {"uploadUri": f"{srv.base}/upload/c{n}", "fileId": f"c{n}", "requiredHeaders": {"x-amz-test": "1"}}
    return (201, {}, json.dumps(body).encode())


def make_client(srv: Scripted, attempts: int = 5) -> tuple[PushApiClient, list[float]]:
    sleeps: list[float] = []
    client = PushApiClient(
        f"{srv.base}/push/v1",
        f"{srv.base}/rest",
        "org",
        "secret-key-123",
        timeout_s=5,
        retry=RetryPolicy(attempts, 0.5, 30),
        sleep=sleeps.append,
    )
    return client, sleeps


def test_429_and_5xx_are_retried_on_every_step_of_a_batch(server: Scripted) -> None:
    server.script = {
        "POST /push/v1/organizations/org/files": [err(503, "SERVICE_UNAVAILABLE"), container(server)],
        "PUT /upload/": [err(500, "INTERNAL"), (200, {}, b"")],
        "PUT /push/v1/organizations/org/sources/s1/documents/batch": [
            err(429, "TOO_MANY_REQUESTS", {"Retry-After": "7"}),
            err(429, "TOO_MANY_DOCUMENTS_DAILY"),
            (202, {}, b"{}"),
        ],
    }
    client, sleeps = make_client(server)
    assert client.upload_batch("s1", b'{"addOrUpdate":[],"delete":[]}', 42) == "c1"
    assert 7.0 in sleeps  # Retry-After honoured
    assert len(sleeps) == 4
    assert all(0 <= s <= 30 for s in sleeps)
    upload = [s for s in server.seen if s[1].startswith("/upload/")]
    assert upload[-1][3].get("x-amz-test") == "1" and "Authorization" not in upload[-1][3]
    apply = [s for s in server.seen if "/documents/batch" in s[1]]
    assert "fileId=c1" in apply[-1][1] and "orderingId=42" in apply[-1][1]
    assert apply[-1][3]["Authorization"] == "Bearer secret-key-123"


def test_dropped_connection_is_retried_and_a_spooled_file_is_sent_whole_again(server: Scripted) -> None:
    server.script = {
        "POST /push/v1/organizations/org/files": [container(server)],
        "PUT /upload/": ["reset", (200, {}, b"")],
    }
    client, sleeps = make_client(server)
    with tempfile.TemporaryFile() as spool:
        spool.write(b"x" * 100_000)
        client.upload_batch("s1", spool, 1)
    uploads = [s for s in server.seen if s[1].startswith("/upload/")]
    assert len(uploads[-1][2]) == 100_000
    assert len(sleeps) >= 1


def test_a_connection_error_to_a_server_known_gone_is_final_and_says_why() -> None:
    # port 9 (discard) on 127.0.0.1: refused at once, like a local Push API child that exited
    answers: list[str | None] = [None, None, "the child process 7 exited (status -9)"]
    sleeps: list[float] = []
    client = PushApiClient(
        "http://127.0.0.1:9/push/v1",
        "http://127.0.0.1:9/rest",
        "org",
        "k",
        timeout_s=5,
        retry=RetryPolicy(8, 0.5, 30),
        sleep=sleeps.append,
        gone=lambda: answers.pop(0),  # alive for two attempts, then known gone
    )
    with pytest.raises(TargetGone, match=r"list sources failed: the child process 7 exited \(status -9\)") as err:
        client.list_sources()
    assert isinstance(err.value, TargetError) and isinstance(err.value, PushError)  # stops a run; optional steps go on
    assert len(sleeps) == 2 and client.requests_made == 3  # retried while alive, not once it was known gone


def test_persistent_429_raises_quota_exceeded(server: Scripted) -> None:
    server.script = {"POST /push/v1/organizations/org/files": [err(429, "TOO_MANY_DOCUMENTS_DAILY")] * 3}
    client, sleeps = make_client(server, attempts=3)
    with pytest.raises(QuotaExceeded, match="still throttled after 3 attempts"):
        client.create_file_container()
    assert len(sleeps) == 2


def test_other_4xx_is_final_and_auth_errors_name_the_key(server: Scripted) -> None:
    server.script = {
        "PUT /push/v1/organizations/org/sources/s1/documents/batch": [err(400, "INVALID_JSON")],
        "POST /push/v1/organizations/org/sources/s1/status": [err(401, "INVALID_TOKEN")],
    }
    client, sleeps = make_client(server)
    with pytest.raises(PushError) as info:
        client.push_batch("s1", "f", 1)
    assert info.value.status == 400 and info.value.error_code == "INVALID_JSON"
    with pytest.raises(TargetError, match="API key"):
        client.set_status("s1", "REBUILD")
    assert sleeps == []


def test_expired_container_is_replaced_by_a_fresh_one(server: Scripted) -> None:
    expired = (403, {}, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
    consumed = (412, {}, json.dumps({"errorCode": "INVALID_PARAMETER", "message": "fileId: already consumed"}).encode())
    server.script = {
        "POST /push/v1/organizations/org/files": [container(server, 1), container(server, 2), container(server, 3)],
        "PUT /upload/c1": [expired],  # the upload URL expired: a fresh container (c2) is used
        "PUT /push/v1/organizations/org/sources/s1/documents/batch": [consumed],  # c2 refused: upload again (c3)
    }
    client, _ = make_client(server)
    assert client.upload_batch("s1", b"{}", 5) == "c3"
    applied = [s[1] for s in server.seen if "/documents/batch" in s[1]]
    assert "fileId=c2" in applied[0] and "fileId=c3" in applied[1]


def test_source_not_found_lists_the_available_ones(server: Scripted) -> None:
    server.script = {"GET /rest/organizations/org/sources": [(200, {}, b'[{"id": "1", "name": "alpha"}]')]}
    client, _ = make_client(server)
    with pytest.raises(TargetError, match=r"source 'beta' not found .*available: alpha.*sources create beta"):
        client.resolve_source("beta")
