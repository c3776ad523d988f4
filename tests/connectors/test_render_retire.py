"""PagePoolHandler._retire run twice at once (two requests parking or starting while a tab closes) closes each
parked tab once and raises nothing: it awaits ``page.close()`` between taking a generation's list and the next,
and the other call took the same generation's list meanwhile (a KeyError there failed a page under load)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import cast

from playwright.async_api import Page

from connectors.render.handler import PagePoolHandler


class SlowTab:
    """Stands in for a Playwright Page (third-party): its close takes a moment, as a real tab's does."""

    def __init__(self) -> None:
        self.closed = 0

    async def close(self) -> None:
        await asyncio.sleep(0.01)
        self.closed += 1


def test_two_retires_at_once_close_each_parked_tab_once() -> None:
    async def both() -> list[SlowTab]:
        # only what _retire reads: building the handler needs an installed reactor and a browser
        handler = PagePoolHandler.__new__(PagePoolHandler)
        handler.context_wrappers, handler.using = {}, Counter()
        tabs = [SlowTab() for _ in range(4)]
        # cast: the stand-ins have the one method of Page that _retire calls
        handler.parked = {"pushcrawl-0": cast(list[Page], tabs[:2]), "pushcrawl-1": cast(list[Page], tabs[2:])}
        await asyncio.gather(handler._retire(2), handler._retire(2))
        assert handler.parked == {}
        return tabs

    tabs = asyncio.run(both())
    assert [tab.closed for tab in tabs] == [1, 1, 1, 1]
