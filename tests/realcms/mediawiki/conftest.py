"""The session's MediaWiki bed: started (installed and seeded on first use) once, stopped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.realcms.conftest import require
from tests.realcms.mediawiki import bed


@pytest.fixture(scope="session")
def mediawiki() -> Iterator[dict[str, Any]]:
    require(bed.REQUIRED, bed.PACKAGES)
    info = bed.start()
    yield info
    if os.environ.get("PUSHCRAWL_REALCMS_KEEP") != "1":  # keep it running between local runs if asked
        bed.stop()
