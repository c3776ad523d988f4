"""connectors.http: Retry-After parsing (the middleware itself is exercised by the spider tests)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.http import BasicAuth, parse_retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 0 ", 0.0),
        ("Wed, 01 May 2024 10:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 09:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("-3", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


def test_basic_auth_header_hides_password_in_repr() -> None:
    auth = BasicAuth(username="u", password="pass word")  # type: ignore[arg-type]
    assert auth.header() == "Basic dTpwYXNzIHdvcmQ="
    assert "pass word" not in repr(auth)
