"""A run spread over workers pushes each identity once: the run ledger in a real Redis decides which worker
sends it (two ``RedisLedger``s on one run's keys stand for two workers; no crawl, no process start)."""

from __future__ import annotations

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis

from crawler.distributed.keys import Keys
from crawler.distributed.ledger import RedisLedger
from crawler.model import Identity, IdentityType
from pipelines.push import PushPipeline
from tests.fixtures.redis_server import RedisServer
from tests.helpers.runs import pipeline_crawler


def _worker(tmp_path: Path, client: redis.Redis, name: str) -> tuple[PushPipeline, io.StringIO]:
    """One worker's push pipeline, in dry-run mode (what it would send is written to ``out``)."""
    out = io.StringIO()
    ledger = RedisLedger(client, Keys("local/t", 7))
    crawler = pipeline_crawler(
        tmp_path, mode="incremental", run_id=7, state_file=f"{name}.sqlite", ledger=ledger, dry_run_out=out
    )
    return PushPipeline(crawler), out


def _sent(out: io.StringIO) -> list[str]:
    text = "\n".join(line for line in out.getvalue().splitlines() if not line.startswith("#"))
    decoder, at, names = json.JSONDecoder(), 0, []
    while (at := text.find("{", at)) >= 0:
        body, at = decoder.raw_decode(text, at)
        names += [entry["identity"]["name"] for entry in body.values()]  # {section: one identity body}
    return names


def test_two_workers_meeting_the_same_identities_push_each_once(tmp_path: Path, redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    (a, out_a), (b, out_b) = _worker(tmp_path, client, "a"), _worker(tmp_path, client, "b")
    groups = [Identity(name=f"team-{n}", type=IdentityType.GROUP) for n in range(40)]

    async def meet(pipeline: PushPipeline, order: list[Identity]) -> None:
        for identity in order:
            await pipeline.process_item(identity)

    async def both() -> None:  # interleaved, as two workers meet the groups at the same time (in two orders)
        for first, second in zip(groups, reversed(groups), strict=True):
            await a.process_item(first)
            await b.process_item(second)

    asyncio.run(both())
    sent_a, sent_b = _sent(out_a), _sent(out_b)
    assert sorted(sent_a + sent_b) == sorted(g.name for g in groups)  # every identity once, by one worker
    assert sent_a and sent_b  # and the work was shared, not all done by the first to start
    skipped = sum(p.stats.get_value("pushcrawl/identities_sent_by_another_worker", 0) for p in (a, b))
    assert skipped == len(groups)

    changed = Identity(name="team-3", type=IdentityType.GROUP, members=[])
    changed.additional_info["note"] = "renamed"  # a new version of an identity is a new claim
    asyncio.run(meet(b, [changed]))
    assert _sent(out_b).count("team-3") == sent_b.count("team-3") + 1


def test_claims_are_atomic_across_concurrent_writers(redis_server: RedisServer) -> None:
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    ledgers = [RedisLedger(client, Keys("local/t", 9)) for _ in range(4)]
    keys = [f"group:g{n}" for n in range(300)]
    with ThreadPoolExecutor(4) as pool:
        won = list(pool.map(lambda led: [k for k in keys if led.claim_identity(k, "fp")], ledgers))
    assert sorted(k for w in won for k in w) == sorted(keys)  # each claimed exactly once
    assert RedisLedger(client, Keys("local/t", 10)).claim_identity(keys[0], "fp")  # another run: its own claims
