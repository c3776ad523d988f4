"""The crawl half of the connector contract: full and incremental crawls are two named, typed methods, and the
base class's ``start`` (Scrapy's entry point) is the one place that picks between them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors import registry
from connectors.base import Connector, ConnectorOptions, CrawlMode


class Recorder(Connector[ConnectorOptions]):
    """Yields which crawl ran, and with what cursor."""

    name = "recorder"
    supports_incremental = True

    @classmethod
    def ping(cls, options: ConnectorOptions) -> None:
        """Nothing to reach: the test yields its own values."""

    async def start_full(self) -> AsyncIterator[Any]:
        yield "full"

    async def start_incremental(self, since: str) -> AsyncIterator[Any]:
        yield f"incremental since {since}"


def _started(mode: CrawlMode, since: str | None) -> list[Any]:
    spider = Recorder(mode=mode, since=since)

    async def drain() -> list[Any]:
        return [x async for x in spider.start()]

    return asyncio.run(drain())


@pytest.mark.parametrize(
    ("mode", "since", "expected"),
    [
        ("incremental", "2026-01-01T00:00:00Z", "incremental since 2026-01-01T00:00:00Z"),
        ("incremental", None, "full"),  # a site's first run: no cursor yet, everything is listed
        ("full", "2026-01-01T00:00:00Z", "full"),  # a full run ignores the cursor
    ],
)
def test_start_dispatches_on_the_cursor(mode: CrawlMode, since: str | None, expected: str) -> None:
    assert _started(mode, since) == [expected]


@pytest.mark.parametrize("name", sorted(registry.SHIPPED))
def test_every_shipped_connector_keeps_the_contract(name: str) -> None:
    cls = registry.load(name)
    assert cls.contract_errors() == []
    # none bypasses the dispatch (``start`` is final for mypy; this catches a subclass that overrides it anyway)
    assert cls.start is Connector.start
    if cls.supports_incremental:
        assert cls.start_incremental is not Connector.start_incremental


def test_flag_and_method_must_agree() -> None:
    class NoMethod(Recorder):
        start_incremental = Connector.start_incremental  # the base's: it does not crawl incrementally

    class NoFlag(Recorder):
        supports_incremental = False

    assert NoMethod.contract_errors() == ["declares supports_incremental but does not implement start_incremental"]
    assert NoFlag.contract_errors() == [
        "implements start_incremental but does not declare supports_incremental (never called)"
    ]
