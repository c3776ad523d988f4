"""BrowserHeaders: the auth middleware's host rule for the requests Chromium makes on a rendered page.

scrapy-playwright gives every *navigation* request of a page (its redirects and frames included) the Scrapy
request's headers — the credential header and the Cookie header of the site — wherever it goes, and gives
the page's own ``fetch()`` calls none of them. Set as ``PLAYWRIGHT_PROCESS_REQUEST_HEADERS`` for a site with
``auth:`` and ``render:``, this keeps scrapy-playwright's default and then applies one rule per request:
to one of the site's hosts, the credentials (and the site's session cookies) are sent, a sub-request
included; to any other host, neither is (the browser's own cookies for that host stay).
"""

from __future__ import annotations

from typing import Any

from connectors.auth import hostname


class BrowserHeaders:
    def __init__(self, hosts: frozenset[str], credentials: dict[str, str]) -> None:
        self.hosts = hosts
        self.credentials = {k.lower(): v for k, v in credentials.items()}

    async def __call__(
        self, *, browser_type_name: str, playwright_request: Any, scrapy_request_data: dict[str, Any]
    ) -> dict[str, str]:
        from scrapy_playwright.headers import use_scrapy_headers

        merged = await use_scrapy_headers(
            browser_type_name=browser_type_name,
            playwright_request=playwright_request,
            scrapy_request_data=scrapy_request_data,
        )
        headers = {k.lower(): v for k, v in merged.items()}
        own = {k.lower(): v for k, v in (await playwright_request.all_headers()).items()}
        scrapy = {k.lower(): v for k, v in scrapy_request_data["headers"].to_unicode_dict().items()}
        if hostname(playwright_request.url) in self.hosts:
            headers.update(self.credentials)
            cookies = [c for c in (own.get("cookie"), scrapy.get("cookie")) if c]
            if cookies:
                headers["cookie"] = "; ".join(cookies)
            return headers
        for name in self.credentials:
            headers.pop(name, None)
        headers.pop("cookie", None)
        if own.get("cookie"):  # the browser's own cookies for that host, never the site's
            headers["cookie"] = own["cookie"]
        return headers
