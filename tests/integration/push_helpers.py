"""Helpers for the push end-to-end tests: a real local Push API reached as a ``kind: coveo`` target.

The server runs in the test process (so the tests can read its store); the crawl runs the real CLI in a
subprocess and reaches the server only over HTTP with ``base_url``/``platform_url``, as an external user
would reach ``pushcrawl serve``.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.localapi import LocalPushAPI
from crawler.pushapi.client import PushApiClient
from tests.conftest import run_cli

ORG = "pushcrawl-local"
SYNTHETIC = "tests.helpers.synthetic:SyntheticConnector"


@contextmanager
def local_api(data_dir: Path, faults: str | None = None) -> Iterator[tuple[LocalPushAPI, str]]:
    key = "pk-" + secrets.token_hex(16)
    server = LocalPushAPI(data_dir, org_id=ORG, api_keys=[key], queue_delay_scale=0.0, faults=faults)
    server.start()
    try:
        yield server, key
    finally:
        server.stop()


def client_for(server: LocalPushAPI, key: str) -> PushApiClient:
    return PushApiClient(f"{server.base_url}/push/v1", f"{server.base_url}/rest", ORG, key)


def settings_text(
    server: LocalPushAPI,
    options: str,
    push: str = "{}",
    security: str = "{mode: everyone}",
    source: str = "synth",
) -> str:
    return f"""{target_yaml(server, source)}
push: {push}
sites:
  synth:
    connector: "{SYNTHETIC}"
    options: {options}
    security: {security}
"""


def target_yaml(server: LocalPushAPI, source: str) -> str:
    """The top of a settings.yaml: the ``remote`` target (the server as Coveo) and the state directory."""
    return f"""
target: remote
targets:
  remote:
    kind: coveo
    base_url: {server.base_url}
    platform_url: {server.base_url}
    organization_id: {ORG}
    source: {source}
    api_key: ${{PUSH_TEST_KEY}}
state_dir: state"""


def create_secured_source(settings: Path, key: str, name: str = "synth") -> str:
    """``pushcrawl sources create NAME --security content_system``, as a user would; returns its output.

    Item permissions apply only on such a source: one open to everyone shows every item to anyone."""
    created = run_cli(
        "sources",
        "create",
        name,
        "--security",
        "content_system",
        "--settings",
        str(settings),
        env={"PUSH_TEST_KEY": key},
    )
    assert created.returncode == 0, created.stderr
    return created.stdout


def query(server: LocalPushAPI, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with server.store.read() as db:
        return [tuple(r) for r in db.execute(sql, args).fetchall()]


def source_id(server: LocalPushAPI, name: str = "synth") -> str:
    return str(query(server, "SELECT id FROM sources WHERE name = ?", name)[0][0])


def pending_batches(state_file: Path) -> int:
    """How many batches the journal holds as sent but not acknowledged."""
    db = sqlite3.connect(str(state_file))
    try:
        return int(db.execute("SELECT count(*) FROM journal WHERE status = 'pending'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def state_items(state_file: Path, scope: str = "remote/synth") -> dict[str, int]:
    """document_id → ordering_id of what the state store records as acknowledged."""
    db = sqlite3.connect(str(state_file))
    try:
        rows = db.execute("SELECT document_id, ordering_id FROM items WHERE scope = ?", (scope,)).fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        db.close()
    return dict(rows)
