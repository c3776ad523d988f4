"""When is a worker dead? Only after ``worker_timeout_s`` of silence after its first heartbeat, or when its
process ended without a final record — never because its start is slow (issue 14: under load a worker was
registered a moment before its first heartbeat reached Redis, and the coordinator ended the run at once with
``worker_died``). The coordinator's own wait loop against a real Redis, with the worker's side played by a
thread at chosen speeds: the timings are the point, so they are set, not left to the machine's load."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
import redis

from crawler.distributed.config import DistributedConfig
from crawler.distributed.coordinator import Coordinator
from crawler.distributed.frontier import BUSY, DONE, IDLE
from crawler.distributed.keys import Keys, connect
from crawler.distributed.worker import Heartbeat, register
from tests.fixtures.redis_server import RedisServer

pytestmark = [pytest.mark.redis]

TIMEOUT_S = 2.0


def coordinator(cfg: DistributedConfig) -> Coordinator:
    """The coordinator's wait loop without a run around it (no local processes: none to see exit)."""
    c = object.__new__(Coordinator)
    c.cfg, c.verbosity, c.procs = cfg, "quiet", []
    return c


def config(server: RedisServer) -> DistributedConfig:
    return DistributedConfig(redis_url=server.url, heartbeat_s=0.2, worker_timeout_s=TIMEOUT_S, join_timeout_s=30)


def finish_when_done(client: redis.Redis, keys: Keys, wid: str, beat: Callable[[], None] | None) -> None:
    """The rest of a worker's life: seed, go idle, and on ``done`` leave the final record."""
    client.set(keys.run("seeded"), wid)
    client.hset(keys.run("status"), wid, IDLE)
    while not client.exists(keys.run("done")):
        if beat:
            beat()
        time.sleep(0.2)
    client.hset(keys.run("final"), wid, '{"reason": "finished", "stats": {}}')
    client.hset(keys.run("status"), wid, DONE)


def wait(c: Coordinator, client: redis.Redis, keys: Keys, worker: Callable[[], None]) -> tuple[str, set[str], float]:
    thread = threading.Thread(target=worker, daemon=True)
    started = time.monotonic()
    thread.start()
    reason, dead = c._wait(client, keys)
    thread.join(10)
    return reason, dead, time.monotonic() - started


def test_registered_a_moment_before_its_first_heartbeat_is_not_dead(redis_server: RedisServer) -> None:
    # the interleaving of the flaky run: registration written, then the process starved before its first beat
    cfg = config(redis_server)
    client, keys = connect(cfg), Keys("idx/cms", 2)
    wid, hb = "vm-7809-1", keys.worker("hb", "vm-7809-1")

    def worker() -> None:
        client.hset(keys.run("workers"), wid, "{}")
        client.hset(keys.run("status"), wid, BUSY)
        time.sleep(TIMEOUT_S * 0.6)  # starved: registered, no heartbeat yet
        client.set(hb, "1", px=int(TIMEOUT_S * 1000))
        finish_when_done(client, keys, wid, lambda: client.set(hb, "1", px=int(TIMEOUT_S * 1000)))

    reason, dead, _ = wait(coordinator(cfg), client, keys, worker)
    assert (reason, dead) == ("finished", set())


def test_a_slow_start_then_the_real_registration_is_not_dead(redis_server: RedisServer) -> None:
    # the worker's own register(): first heartbeat and registration in one transaction, after a slow start
    cfg = config(redis_server)
    client, keys = connect(cfg), Keys("idx/cms", 2)
    wid = "vm-7809-2"
    beat = Heartbeat(client, keys, wid, cfg)

    def worker() -> None:
        time.sleep(TIMEOUT_S * 1.5)  # imports under load: longer than the timeout, before joining
        register(client, keys, wid, beat)
        assert client.exists(keys.worker("hb", wid)) and client.hexists(keys.run("workers"), wid)
        finish_when_done(client, keys, wid, None)
        beat.stop()

    reason, dead, _ = wait(coordinator(cfg), client, keys, worker)
    assert (reason, dead) == ("finished", set())


def test_silent_after_its_first_heartbeat_is_dead_after_the_timeout(redis_server: RedisServer) -> None:
    # a worker on another machine SIGKILLed: no process to see exit, only its heartbeat stops
    cfg = config(redis_server)
    client, keys = connect(cfg), Keys("idx/cms", 2)
    wid = "elsewhere-1"
    beat = Heartbeat(client, keys, wid, cfg)

    def worker() -> None:
        register(client, keys, wid, beat)
        time.sleep(0.5)
        beat.stop()  # killed: the heartbeat stops, nothing else is ever written

    reason, dead, took = wait(coordinator(cfg), client, keys, worker)
    assert (reason, dead) == ("worker_died", {wid})
    assert took >= TIMEOUT_S  # silence counted from its last beat, not from its registration


def test_registered_but_never_beating_is_dead_after_the_timeout(redis_server: RedisServer) -> None:
    cfg = config(redis_server)
    client, keys = connect(cfg), Keys("idx/cms", 2)

    def worker() -> None:
        client.hset(keys.run("status"), "mute-1", BUSY)

    reason, dead, took = wait(coordinator(cfg), client, keys, worker)
    assert (reason, dead) == ("worker_died", {"mute-1"})
    assert TIMEOUT_S <= took < TIMEOUT_S + 5


def test_local_workers_that_all_exit_before_joining_end_the_wait_at_once(redis_server: RedisServer) -> None:
    # registration comes late now (after the crawler is built): a worker that fails before it must not leave
    # the coordinator waiting join_timeout_s
    cfg = config(redis_server)
    c = coordinator(cfg)
    c.procs = [subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])]
    started = time.monotonic()
    assert c._wait(connect(cfg), Keys("idx/cms", 2)) == ("no_worker_joined", set())
    assert time.monotonic() - started < cfg.join_timeout_s / 2
