"""Options that hold regular expressions: checked when settings.yaml is read, not when a URL first meets them."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator


def valid_regexes(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"a valid regular expression ({pattern!r}: {exc})") from None
    return patterns


#: a list of regular expressions, each compiled once at validation (a typo is a settings error naming the key)
RegexList = Annotated[list[str], AfterValidator(valid_regexes)]
