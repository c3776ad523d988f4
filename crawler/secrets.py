"""Secret values seen this process (from ``${ENV}`` in secret-looking keys, API keys) and their redaction.

Every secret registered here is replaced by ``***`` in log records (a logging filter on the root handlers),
in run reports and in ``--dry-run`` output, whatever code path would otherwise print it.
"""

from __future__ import annotations

import logging
import threading

from crawler.jsontypes import JSONData

_lock = threading.Lock()
_secrets: set[str] = set()
MASK = "***"


def register(value: str | None) -> None:
    # Very short values would mask ordinary words all over the logs; real keys and passwords are longer.
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_obj(obj: JSONData) -> JSONData:
    """Redact every string inside a JSON-like structure."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact_obj(v) for v in obj]
    return obj


class RedactingFilter(logging.Filter):
    """Rewrites a record's final message with secrets masked (args are merged first so none slips through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            message = record.getMessage()
            redacted = redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                if redact(str(exc)) != str(exc):
                    record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
                    record.exc_info = None
        return True


def install_log_filter() -> None:
    """Attach the redacting filter to every root handler (Scrapy installs its own handler at start)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
