"""The one exception tree of pushcrawl.

    PushcrawlError                 base: every error we raise on purpose; its message is shown to users as is
    ├── SettingsError              settings.yaml (or -s overrides) is invalid: names the file, key path, expectation
    ├── ConnectorError             a connector cannot run: unknown name, bad options, CMS unreachable (ping)
    ├── TargetError                the push target cannot be used: unknown target, source not found, auth refused
    ├── PushError                  a Push API call failed after retries (status and errorCode kept)
    │   └── QuotaExceeded          a quota 429 that persisted: stop cleanly, keep unacknowledged items
    ├── TargetGone                 TargetError and PushError: the target's process exited (the local Push API's
    │                              child); a call fails at once, unretried, and the run stops
    ├── StateError                 the state store is unusable (locked, corrupt, from a newer version)
    └── RunRefused                 a data-safety rule refused an action (mass deletion, incomplete run sweep)

CLI commands catch PushcrawlError, print its message (one paragraph, no traceback) and exit non-zero.

``Unchanged`` is not an error: the changes pipeline raises it (a Scrapy ``DropItem``) for an item the index
already holds as is, so a connector listening to ``item_dropped`` can tell it from a real drop.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem


class Unchanged(DropItem):
    """The item's fingerprint matches what the index acknowledged: not pushed again, not lost."""


class PushcrawlError(Exception):
    """Base of every error pushcrawl raises on purpose; ``str(err)`` is a user-facing message."""

    exit_code = 2


class SettingsError(PushcrawlError):
    """Invalid settings. The message names the file, the key path and what was expected."""

    def __init__(self, file: str, key: str, expected: str) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        where = f"{file}: {key}" if key else file
        super().__init__(f"invalid settings in {where}: {expected}")


class ConnectorError(PushcrawlError):
    """A connector cannot be loaded or cannot reach its content system."""


class TargetError(PushcrawlError):
    """The push target is unusable (unknown, unreachable, refused credentials, missing source)."""


class PushError(PushcrawlError):
    """A Push API call failed for good (after the retries the settings allow)."""

    def __init__(self, message: str, status: int | None = None, error_code: str | None = None) -> None:
        self.status = status
        self.error_code = error_code
        super().__init__(message)


class QuotaExceeded(PushError):
    """The organization's quota (429 that persists) stops the run; unacknowledged items stay for the next run."""


class TargetGone(TargetError, PushError):
    """The target's server is known to be gone (the local Push API's child process exited): a call fails at once,
    without the retries a network error gets. As a TargetError it stops the run (pipelines.sink); as a PushError
    the steps that may fail without failing the run (listing the index's fields) log it and go on."""


class StateError(PushcrawlError):
    """The state store cannot be used."""


class RunRefused(PushcrawlError):
    """A data-safety rule refused an action; the message says how to allow it when that is possible."""

    exit_code = 3
