"""Distributed-run test bench: the run-mode bench (fixture CMS + local Push API as a ``kind: coveo`` target,
tests/runs/conftest.py) plus a throw-away Redis on a free loopback port, and the ``distributed:`` block that
points the site at it. Crawls are real CLI processes: a coordinator and its workers are separate processes
by design (kill -9 of one of them is what some tests do)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.fixtures.redis_server import RedisServer, available
from tests.runs.conftest import Bench, bench  # noqa: F401  (bench: the run-mode bench fixture, reused)

if not available():
    pytest.skip("Debian's redis-server is not installed (apt-get install redis-server)", allow_module_level=True)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def distributed_yaml(url: str, extra: str = "") -> str:
    return f"distributed:\n  redis_url: {url}\n  heartbeat_s: 0.2\n  worker_timeout_s: 3\n{extra}"


@pytest.fixture
def dbench(bench: Bench, redis_server: RedisServer) -> Bench:  # noqa: F811  (the imported fixture)
    """The bench with the site's settings given a ``distributed:`` block."""
    add_distributed(bench.settings, redis_server.url)
    return bench


def add_distributed(settings: Path, url: str, extra: str = "") -> None:
    settings.write_text(settings.read_text(encoding="utf-8") + "\n" + distributed_yaml(url, extra), encoding="utf-8")


def other_machine(on: Bench, name: str = "other") -> Path:
    """A second working directory with its own copy of the settings (so its own state directory and logs):
    another machine in all but name."""
    where = on.tmp / name
    where.mkdir()
    (where / "settings.yaml").write_text(on.settings.read_text(encoding="utf-8"), encoding="utf-8")
    return where


def cli(on: Bench, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "crawler.cli", *args, "--settings", str(cwd / "settings.yaml")]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=on.env(), cwd=cwd)


def start_cli(on: Bench, cwd: Path, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "crawler.cli", *args, "--settings", str(cwd / "settings.yaml")]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=on.env(), cwd=cwd)


SCOPE = "idx/cms"


def current_run(client: redis.Redis) -> int | None:
    value = client.get(f"pushcrawl:{SCOPE}:current")
    return None if value is None else int(value)


def workers_of(client: redis.Redis, run_id: int) -> dict[str, dict[str, Any]]:
    raw = client.hgetall(f"pushcrawl:{SCOPE}:run:{run_id}:workers")
    return {k.decode(): json.loads(v) for k, v in raw.items()}


def fetched_by(client: redis.Redis, run_id: int) -> dict[str, int]:
    raw = client.hgetall(f"pushcrawl:{SCOPE}:run:{run_id}:progress")
    return {k.decode(): int(json.loads(v).get("downloader/response_count", 0)) for k, v in raw.items()}


def wait_fetching(client: redis.Redis, workers: int, timeout: float = 90) -> int:
    """Until a run is current and ``workers`` workers have each fetched something; returns the run id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_id = current_run(client)
        if run_id is not None and sum(1 for n in fetched_by(client, run_id).values() if n) >= workers:
            return run_id
        time.sleep(0.1)
    raise AssertionError(f"no run with {workers} fetching worker(s) within {timeout}s")
