"""Which responses are kept for revalidation, which validators are trusted, and when a 304 is believed.

Scrapy's RFC2616Policy is a browser's cache: it serves a stored page without asking while it looks fresh
(``max-age``, ``Expires``, or a tenth of its age since ``Last-Modified``: a page untouched for a year would not
be asked for again for five weeks), and serves the stored page when the server answers 5xx. A crawler that
must notice every edit wants neither, so this policy always asks, and believes only a 304.

Kept: a ``200`` to a plain GET over http(s), not rendered by the browser, not ``no-store``, that carries a
validator this policy trusts:
- ``ETag``, when strong: a weak tag (``W/"…"``) says "equivalent", not "the same bytes", and an empty one
  (``""``, Wagtail's for a file without hash) names no version;
- ``Last-Modified``, when at least a second older than the response's ``Date`` (RFC 9110 §8.8.2.2: an edit
  later in that same second would carry the same date).
A response modified less than a second before it was served keeps no validator at all, even a strong ETag:
nginx and Apache make theirs from the file's modification time in seconds and its size, so a same-size edit
in that second would keep the tag too. Such a page is simply fetched in full next time.

A 304 is believed when it names the tag that was sent (or names none); a 304 with another ETag says the
stored page is not the current one, and the middleware fetches it again in full.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached

#: set on a request whose conditional headers this policy added (a retry keeps them, and its meta)
OURS = "pushcrawl_revalidate"
CONDITIONAL = (b"If-None-Match", b"If-Modified-Since", b"If-Match", b"If-Unmodified-Since", b"If-Range")
EMPTY_ETAGS = (b'""', b'W/""')


def http_date_epoch(value: bytes) -> float | None:
    """Seconds since the epoch of an HTTP date (``Sun, 06 Nov 1994 08:49:37 GMT``), None when unreadable."""
    try:
        return parsedate_to_datetime(value.decode("latin-1")).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _header(response: Response, name: bytes) -> bytes:
    return (response.headers.get(name) or b"").strip()


def validators(response: Response) -> dict[bytes, bytes]:
    """The request headers that revalidate ``response`` (empty: nothing trustworthy to revalidate with)."""
    out: dict[bytes, bytes] = {}
    modified = _header(response, b"Last-Modified")
    if modified:
        when, served = http_date_epoch(modified), http_date_epoch(_header(response, b"Date"))
        if when is None or served is None or served - when < 1:
            return {}  # unreadable, or modified in the second it was served: nothing is trustworthy
        out[b"If-Modified-Since"] = modified
    etag = _header(response, b"ETag")
    if etag and etag not in EMPTY_ETAGS and not etag.startswith(b"W/"):
        out[b"If-None-Match"] = etag
    return out


class RevalidatePolicy:
    """Scrapy's HTTPCACHE_POLICY interface (see the module docstring for the rules)."""

    def __init__(self, settings: BaseSettings) -> None:
        self.settings = settings

    def should_cache_request(self, request: Request) -> bool:
        if request.method != "GET" or urlparse_cached(request).scheme not in ("http", "https"):
            return False
        if request.meta.get("playwright") or b"Range" in request.headers:
            return False  # a browser renders it (connectors.render), or only part of the body comes back
        if b"no-store" in (request.headers.get(b"Cache-Control") or b""):
            return False
        # a connector's own conditional request (its 304 is its business), unless the headers are ours
        return request.meta.get(OURS, False) or not any(h in request.headers for h in CONDITIONAL)

    def should_cache_response(self, response: Response, request: Request) -> bool:
        if "cached" in response.flags:
            return False  # the stored copy, handed back on a 304: already stored as it is
        if response.status != 200 or b"no-store" in _header(response, b"Cache-Control"):
            return False
        return bool(validators(response))

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        # never fresh: every run asks the server, with the validators the stored response came with
        found = validators(cachedresponse)
        for name in CONDITIONAL:
            request.headers.pop(name, None)
        request.headers.update(found)
        request.meta[OURS] = True
        return False

    def is_cached_response_valid(self, cachedresponse: Response, response: Response, request: Request) -> bool:
        if response.status != 304:
            return False  # a 5xx is an error of this run, not a reason to serve yesterday's page
        tag = _header(response, b"ETag")
        return not tag or tag == _header(cachedresponse, b"ETag")
