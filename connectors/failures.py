"""A failed download → a short, non-empty reason a person can act on.

Twisted's ``Failure.getErrorMessage()`` is ``str(exception)``, which is empty for several of the failures a
crawl meets most (a truncated transfer raises a bare ``ResponseDataLossError``; a cancelled download a bare
``CancelledError``), so log lines ended in ``…/page.html: `` with nothing after the colon. ``describe`` names
the failure and what it usually means; ``is_too_large`` tells a size-cap cancellation (a choice, counted as
``too_large``) from a real failure.
"""

from __future__ import annotations

from scrapy.exceptions import DownloadCancelledError, ResponseDataLossError
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionLost, TimeoutError
from twisted.python.failure import Failure

_KNOWN = {
    ResponseDataLossError: "truncated transfer: the connection closed before the body the server announced "
    "(Content-Length) arrived",
    ConnectionLost: "connection lost before the response was complete",
    TimeoutError: "no answer within DOWNLOAD_TIMEOUT",
}


def max_size(failure: Failure) -> int:
    request = getattr(failure, "request", None)
    meta = getattr(request, "meta", {}) or {}
    return int(meta.get("download_maxsize") or 0)


def is_too_large(failure: Failure) -> bool:
    """True when the download was cancelled by a size cap (``DOWNLOAD_MAXSIZE`` or ``download_maxsize``)."""
    if isinstance(failure.value, DownloadCancelledError):  # not failure.check: Twisted leaves it untyped
        return True
    # past the cap while streaming, Scrapy cancels the body's Deferred: a bare CancelledError
    return isinstance(failure.value, CancelledError)


def describe(failure: Failure) -> str:
    """``<ExceptionType>: <message or what it means>``, never empty."""
    exc = failure.value
    message = str(exc).strip()
    for kind, meaning in _KNOWN.items():
        if isinstance(exc, kind):
            return f"{type(exc).__name__}: {message}" if message and kind is not ResponseDataLossError else meaning
    if isinstance(exc, CancelledError | DownloadCancelledError):
        return message or "download cancelled (larger than the download size cap, DOWNLOAD_MAXSIZE)"
    reasons = getattr(exc, "reasons", None)  # twisted ResponseFailed / ResponseNeverReceived wrap the cause
    if reasons:
        inner = "; ".join(str(r.value) or type(r.value).__name__ for r in reasons)
        return f"{type(exc).__name__}: {inner}"
    return f"{type(exc).__name__}: {message}" if message else f"{type(exc).__name__} (no message)"
