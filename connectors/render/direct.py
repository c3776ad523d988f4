"""A rendered page without request interception: the tab navigates, the DOM is read, nothing else.

scrapy-playwright renders a page through ``page.route("**")``: Chromium then pauses *every* request of the page
(the document, each script, stylesheet, ``fetch()``) and sends it to Playwright's driver and on to Python, which
answers each one (headers merged, ``route.continue_``); around that come an unroute/route per page, a listener
reading every response's headers, ``security_details`` and ``server_addr``. On a small page that is a fifth of
the render's CPU and more on a page with many subresources. It exists to put the Scrapy request's headers,
method and body on the browser's request. A rendered GET whose headers are only the ones every request carries
needs none of it, and takes this path:

- **User-Agent** and **Accept-Language** are the browser context's own (``user_agent``, ``extra_http_headers``),
  set once when the context is made from its first request; a request whose values differ from its context's
  takes scrapy-playwright's path. **Referer** is ``page.goto``'s own argument. **Cookie**: Playwright drops a
  cookie header set on an intercepted request anyway; a login's cookies reach the page through the init
  callback (connectors.auth.browser.share_cookies), called here as there. **Accept**, **Accept-Encoding**: the
  browser's own, as it sends for every subresource.
- Any other header (a credential, a user's), a method other than GET or a body: scrapy-playwright's path,
  unchanged (connectors.auth.browser's header rules apply there).
- **block**: the blocked resource types are failed by the tab's own DevTools session (``Fetch.enable`` with
  resource-type patterns, set up once per tab), so only a blocked request is paused, never the page's others.
- The DOM is read by connectors.render.dom (no InjectedScript in every document), not ``page.content()``.
- A URL that turns out to be a download (a PDF link under ``mode: always``) is fetched again through
  scrapy-playwright's path, which knows how to wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from time import time
from typing import Any

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from scrapy import Request, Spider
from scrapy.http import Headers, Response, TextResponse
from scrapy.responsetypes import responsetypes
from scrapy_playwright._utils import (
    _attach_page_event_handlers,
    _encode_body,
    _get_page_content,
    _maybe_execute_page_init_callback,
    _set_redirect_meta,
)

from connectors.render import dom

#: PagePoolHandler._apply_page_methods (scrapy-playwright's), passed in: this module does not import the handler
PageMethods = Callable[[Page, Request, Spider], Awaitable[None]]

#: headers the direct path carries by other means (above); a request with any other takes the intercepting one
CARRIED = frozenset({b"user-agent", b"accept-language", b"referer", b"cookie", b"accept", b"accept-encoding"})
#: Playwright's resource types (render.block) → Chromium's DevTools ResourceType
CDP_TYPES = {"image": "Image", "media": "Media", "font": "Font", "stylesheet": "Stylesheet"}


class Downloading(Exception):
    """The navigation started a download: the request goes through scrapy-playwright's path instead."""


def identity(request: Request) -> tuple[str, str]:
    """(User-Agent, Accept-Language) of a request: what its browser context must send for it."""
    return (
        (request.headers.get(b"User-Agent") or b"").decode("latin-1"),
        (request.headers.get(b"Accept-Language") or b"").decode("latin-1"),
    )


# Any: Playwright's new_context keyword arguments (strings, dicts, flags)
def context_kwargs(request: Request) -> dict[str, Any]:
    """Browser context options that make the browser send ``request``'s identity on every request."""
    user_agent, language = identity(request)
    kwargs: dict[str, Any] = dict(request.meta.get("playwright_context_kwargs") or {})
    if user_agent:
        kwargs.setdefault("user_agent", user_agent)
    if language:
        kwargs.setdefault("extra_http_headers", {"Accept-Language": language})
    return kwargs


def eligible(request: Request, context_identity: tuple[str, str] | None) -> bool:
    """Whether ``request`` can render without interception (module docstring); ``context_identity`` is the
    identity its browser context was made with (None: the context does not exist yet and will be made from it)."""
    if request.method != "GET" or request.body:
        return False
    if any(name.lower() not in CARRIED for name in request.headers):
        return False
    return context_identity is None or context_identity == identity(request)


async def block(page: Page, kinds: list[str], counted: Callable[[], None]) -> object:
    """Fail the requests of ``kinds`` (render.block) in ``page`` through its own DevTools session; returns the
    session (kept with the tab). ``counted``: called once per blocked request."""
    session = await page.context.new_cdp_session(page)

    # Any: a DevTools event's JSON parameters
    def paused(event: dict[str, Any]) -> None:
        counted()
        fail = session.send("Fetch.failRequest", {"requestId": event["requestId"], "errorReason": "BlockedByClient"})
        task = asyncio.ensure_future(fail)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # the tab may be gone meanwhile

    session.on("Fetch.requestPaused", paused)
    patterns = [{"urlPattern": "*", "resourceType": CDP_TYPES[k], "requestStage": "Request"} for k in kinds]
    await session.send("Fetch.enable", {"patterns": patterns})
    return session


async def render(
    request: Request, spider: Spider, page: Page, page_methods: PageMethods, fell_back: Callable[[], None]
) -> Response:
    """Navigate ``page`` to ``request.url`` and answer the rendered DOM, as scrapy-playwright's path would;
    ``page_methods``: the handler's ``_apply_page_methods`` (``wait_for`` a selector); ``fell_back``: called
    when the DOM had to be read by ``page.content()`` (the handler counts it, through its thread-safe stats)."""
    context_name = str(request.meta["playwright_context"])
    request.meta["playwright_page"] = page  # for the errback, as scrapy-playwright sets it early
    _attach_page_event_handlers(page=page, request=request, spider=spider, context_name=context_name)
    await _maybe_execute_page_init_callback(page=page, request=request, context_name=context_name, spider=spider)
    # Any: page.goto's keyword arguments (timeout, wait_until, referer)
    goto: dict[str, Any] = dict(request.meta.get("playwright_page_goto_kwargs") or {})
    goto.pop("url", None)
    referer = request.headers.get(b"Referer")
    if referer:
        goto.setdefault("referer", referer.decode("latin-1"))
    started = time()
    try:
        response = await page.goto(request.url, **goto)
    except PlaywrightError as err:
        if "Download is starting" in err.message or "net::ERR_ABORTED" in err.message:
            raise Downloading(request.url) from err
        raise
    headers = Headers()
    if response is not None:
        await _set_redirect_meta(request=request, response=response)
        # all_headers, not headers: with Set-Cookie, so Scrapy's jar sees a session cookie a rendered page renews
        headers = Headers(await response.all_headers())
        headers.pop("Content-Encoding", None)
    await page_methods(page, request, spider)
    text = await dom.content(
        page,
        lambda: _get_page_content(
            page=page,
            spider=spider,
            context_name=context_name,
            scrapy_request_url=request.url,
            scrapy_request_method=request.method,
        ),
        fell_back,
    )
    request.meta["download_latency"] = time() - started
    body, encoding = _encode_body(headers=headers, text=text)
    respcls = responsetypes.from_args(headers=headers, url=page.url, body=body)
    status = response.status if response is not None else 200
    if issubclass(respcls, TextResponse):
        return respcls(
            url=page.url,
            status=status,
            headers=headers,
            body=body,
            request=request,
            flags=["playwright"],
            encoding=encoding,
        )
    return respcls(url=page.url, status=status, headers=headers, body=body, request=request, flags=["playwright"])


async def quietly_unroute(page: Page) -> None:
    """Drop the interception scrapy-playwright's path left on a tab (its handler belongs to an older request)."""
    with contextlib.suppress(PlaywrightError):
        await page.unroute("**")
