"""The rendered page's HTML, read through the tab's own DevTools session instead of Playwright's ``page.content()``.

``page.content()`` runs in Playwright's utility world, and its first use in each new document injects
Playwright's whole InjectedScript there (~320 KB of JavaScript for selectors, actions and ARIA snapshots: sent
by the driver, relayed by the browser process, compiled and run by the renderer) to call one function of it.
Our tabs load a new document per rendered page, so that came with every page: ~50 ms of CPU (renderer, browser
and driver) on a docs page, for a string any world can serialize.

Here the same serialization (the doctype, then ``documentElement.outerHTML``: what the InjectedScript's
``documentContent`` returns) runs in an isolated world of our own, made per document with
``Page.createIsolatedWorld``: like Playwright's utility world, the page's scripts cannot see or alter what
it uses (a page that replaced ``XMLSerializer`` or ``outerHTML`` changes nothing). Two DevTools calls per
page, on a session opened once per tab. Whatever goes wrong there (the document navigated away meanwhile, a
closed tab, a Chromium that lacks the call) falls back to ``page.content()`` with scrapy-playwright's retry,
so a page reads as before or fails as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import CDPSession, Page
from playwright.async_api import Error as PlaywrightError

#: the InjectedScript's documentContent (includeShadow false), as one expression
SERIALIZE = (
    "(document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '')"
    " + (document.documentElement ? document.documentElement.outerHTML : '')"
)
WORLD = "pushcrawl-read"

#: each tab's session and its main frame's DevTools id (a tab keeps its main frame across navigations)
_tabs: weakref.WeakKeyDictionary[Page, tuple[CDPSession, str]] = weakref.WeakKeyDictionary()


async def _tab(page: Page, fresh: bool = False) -> tuple[CDPSession, str]:
    known = _tabs.get(page)
    if known is not None and not fresh:
        return known
    session = known[0] if known is not None else await page.context.new_cdp_session(page)
    tree = await session.send("Page.getFrameTree")
    _tabs[page] = (session, str(tree["frameTree"]["frame"]["id"]))
    return _tabs[page]


async def _serialize(page: Page, fresh: bool) -> str:
    session, frame = await _tab(page, fresh)
    # Any: DevTools JSON results
    world: dict[str, Any] = await session.send("Page.createIsolatedWorld", {"frameId": frame, "worldName": WORLD})
    result: dict[str, Any] = await session.send(  # Any: DevTools JSON results
        "Runtime.evaluate",
        {"expression": SERIALIZE, "contextId": world["executionContextId"], "returnByValue": True},
    )
    value = result.get("result", {}).get("value")
    if "exceptionDetails" in result or not isinstance(value, str):
        raise PlaywrightError(f"serializing the document failed: {result.get('exceptionDetails')}")
    return value


async def content(
    page: Page, fallback: Callable[[], Awaitable[str]], fell_back: Callable[[], None] = lambda: None
) -> str:
    """The page's HTML as ``page.content()`` gives it; ``fallback``: that call (with its retry), used when the
    DevTools path fails, which ``fell_back`` is told (a count: a Chromium where it always fails costs more)."""
    for fresh in (False, True):  # a second try with the frame id read again
        try:
            return await _serialize(page, fresh)
        except PlaywrightError:
            continue
    fell_back()
    return await fallback()
