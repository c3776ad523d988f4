"""The auth rules for what Chromium fetches on a rendered page: credential headers and the session's cookies.

Headers — ``BrowserHeaders``, set as ``PLAYWRIGHT_PROCESS_REQUEST_HEADERS`` for a site with ``auth:`` and
``render:``: scrapy-playwright gives every navigation request of a page the Scrapy request's headers, and
Playwright carries headers set on an intercepted request through the redirects that follow it — to any host,
with no chance to remove them (found by tests/integration/test_render_faults.py: a custom header reached
another host through a redirect). So no credential header ever enters the browser: this removes them from
every request Chromium makes. Basic logins reach rendered pages through the browser context's own
``http_credentials``, bound to the site's origin (``basic_context``); header logins cannot render safely and
are refused by ``check`` (connectors.auth.check_ready).

Cookies — ``share_cookies``, the page's ``playwright_page_init_callback``: Playwright drops a ``Cookie`` header
set on an intercepted request (the browser's cookie store decides), so the session cookies Scrapy's jar put on
the request are copied into the page's browser context, for the request's own origin, before it navigates;
the browser's store then sends them (host-scoped) to the page and its ``fetch()`` calls.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request

from connectors.auth.options import BasicLogin

#: request meta for scrapy-playwright (a dotted path, so a request stays serialisable for a disk queue)
PAGE_INIT = "connectors.auth.browser.share_cookies"


class BrowserHeaders:
    def __init__(self, names: list[str]) -> None:
        self.names = [name.lower() for name in names]

    async def __call__(
        # Any: scrapy-playwright's header hook passes a Playwright request and Scrapy's request data, both untyped
        self,
        *,
        browser_type_name: str,
        playwright_request: Any,
        scrapy_request_data: dict[str, Any],
    ) -> dict[str, str]:
        from scrapy_playwright.headers import use_scrapy_headers

        merged = await use_scrapy_headers(
            browser_type_name=browser_type_name,
            playwright_request=playwright_request,
            scrapy_request_data=scrapy_request_data,
        )
        return {k: v for k, v in merged.items() if k.lower() not in self.names}


# Any: Playwright's new_context keyword arguments, of several types (credentials dict, strings, flags)
def basic_context(auth: BasicLogin, url: str) -> dict[str, Any]:
    """Browser context options answering the site's basic-auth challenge, for ``url``'s origin only."""
    parts = urlsplit(url)
    credentials = {"username": auth.username, "password": auth.password.get_secret_value()}
    return {"http_credentials": {**credentials, "origin": f"{parts.scheme}://{parts.netloc}", "send": "always"}}


# Any: a Playwright page handed over by scrapy-playwright (untyped there)
async def share_cookies(page: Any, request: Request) -> None:
    """Copy the cookies on ``request`` (the jar's, for its host) into ``page``'s browser context."""
    raw = b"; ".join(request.headers.getlist(b"Cookie")).decode("latin-1")
    if not raw:
        return
    parsed = SimpleCookie()
    parsed.load(raw)
    parts = urlsplit(request.url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    await page.context.add_cookies([{"name": k, "value": m.value, "url": origin} for k, m in parsed.items()])
