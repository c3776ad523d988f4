"""Scrapy's HTTP cache middleware, made a revalidator: no stale-if-error, no body-less 304 to the spider.

Scrapy's middleware hands the spider its stored page when the download fails (connection refused, timeout):
for a crawler that is an outage hidden from the run (no error counted, the page "seen"), so here a failed
download stays a failure. The policy (crawler.revalidate.policy) decides what a 304 proves; this adds what
happens when it proves nothing:

- a 304 that names another ETag than the one sent: the stored page is not the current one. The page is
  asked for again without validators (``pushcrawl/http/refetched``) and what comes back replaces it;
- a 304 to a request sent without validators (a server that answers 304 to anything): passed on as the
  HTTP error it is (``pushcrawl/http/unexpected_304``): the connector counts the page failed, so the run is
  not proven complete and nothing is deleted.

Each believed 304 counts ``pushcrawl/http/not_modified``, and in ``pushcrawl/http/not_downloaded_bytes`` the
size of the stored page less the 304's (Scrapy's ``downloader/response_bytes`` counts the stored page). The
page's document is then found unchanged by the changes pipeline (``pushcrawl/unchanged``) unless its mapping,
its permissions or its acknowledgement differ.
"""

from __future__ import annotations

from scrapy import Spider
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.downloadermiddlewares.stats import get_header_size, get_status_size
from scrapy.http import Request, Response

from crawler.revalidate.policy import CONDITIONAL, OURS

#: the headers of a believed 304 that replace the stored page's (Set-Cookie: the stored page has none)
FRESHENED = (b"Cache-Control", b"Content-Location", b"Date", b"ETag", b"Expires", b"Vary", b"Set-Cookie")
#: set on the request that fetches a page in full after a 304 that could not be believed
REFETCH = "pushcrawl_refetch"


def wire_size(response: Response) -> int:
    """A response's size as Scrapy's DownloaderStats counts it (status line, headers, body)."""
    return len(response.body) + get_header_size(response.headers) + get_status_size(response.status) + 4


class RevalidateMiddleware(HttpCacheMiddleware):
    # spider: Scrapy's middleware signature (deprecated argument, still passed by some callers)
    def process_request(self, request: Request, spider: Spider | None = None) -> Request | Response | None:
        if request.meta.pop(OURS, False):
            # a retry, or a redirect built from a revalidated request, carries the validators of the page first
            # asked for: dropped here, and set again only if this URL has its own stored page
            for name in CONDITIONAL:
                request.headers.pop(name, None)
        if request.meta.get(REFETCH):
            return None  # asked for in full: no lookup, and what comes back is stored (first-hand)
        return super().process_request(request)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if response.status == 304 and not request.meta.get("dont_cache", False):
            cached = request.meta.get("cached_response")
            if cached is None:
                if not any(name in request.headers for name in CONDITIONAL):  # nothing asked it to be 304
                    self.stats.inc_value("pushcrawl/http/unexpected_304")
            elif self.policy.is_cached_response_valid(cached, response, request):
                self.stats.inc_value("pushcrawl/http/not_modified")
                stored = super().process_response(request, response)
                # Scrapy's downloader/response_bytes counts the stored page handed on, not the 304 that came
                self.stats.inc_value("pushcrawl/http/not_downloaded_bytes", wire_size(cached) - wire_size(response))
                return stored
            else:
                self.stats.inc_value("pushcrawl/http/refetched")
                del request.meta["cached_response"]
                headers = request.headers.copy()
                for name in CONDITIONAL:
                    headers.pop(name, None)
                meta = {k: v for k, v in request.meta.items() if k != OURS}
                return request.replace(headers=headers, meta={**meta, REFETCH: True}, dont_filter=True)
        if response.status in (404, 410) and request.meta.get("cached_response") is not None:
            self.storage.forget(request)  # gone: a page that comes back is downloaded in full
        return super().process_response(request, response)

    def _freshen_cached_response(self, cachedresponse: Response, response: Response) -> None:
        # only what a 304 may carry (RFC 9110 §15.4.5) and a cookie: Scrapy copies every header of the 304
        # over the stored page, so a 304 that also sends a Content-Type (some servers do) turned a stored
        # HTML page into "application/json" and the connector dropped it as not HTML
        for name in FRESHENED:
            if name in response.headers:
                cachedresponse.headers.setlist(name, response.headers.getlist(name))

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        request.meta.pop("cached_response", None)  # a failed download is a failure, not yesterday's page
        return None
