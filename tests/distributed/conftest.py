"""Distributed-run test bench: the run-mode bench (fixture CMS + local Push API as a ``kind: coveo`` target,
tests/runs/conftest.py) plus a throw-away Redis on a free loopback port, and the ``distributed:`` block that
points the site at it. Crawls are real CLI processes: a coordinator and its workers are separate processes
by design (kill -9 of one of them is what some tests do)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.redis_server import RedisServer, available
from tests.runs.conftest import Bench, bench, write_bench_settings  # noqa: F401  (bench: a fixture)

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


def crawl(bench: Bench, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return bench.crawl(*args, timeout=timeout)
