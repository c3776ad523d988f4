"""The identity sweep follows the item sweep's completeness rule and never runs without pushed identities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from crawler import identities


@dataclass
class Calls:
    made: list[tuple[str, int]] = field(default_factory=list)
    requests_made: int = 0
    retries_made: int = 0

    def disable_identities_older_than(self, provider: str, ordering_id: int) -> None:
        self.made.append((provider, ordering_id))


@dataclass
class Target:
    client: Calls = field(default_factory=Calls)


@dataclass
class Ctx:
    mode: str = "full"
    dry_run: bool = False
    ordering_id: int = 1234
    extra: dict[str, Any] = field(default_factory=lambda: {"identities_pushed": 3, "provider_id": "cms-identities"})


@pytest.mark.parametrize(
    ("ctx", "complete", "expected"),
    [
        (Ctx(), True, [("cms-identities", 1234)]),
        (Ctx(), False, []),  # not proven complete: nothing disabled
        (Ctx(mode="incremental"), True, []),  # only full runs see every identity
        (Ctx(extra={"identities_pushed": 0, "provider_id": "p"}), True, []),  # no identity stream: never sweep
        (Ctx(dry_run=True), True, []),
    ],
)
def test_identity_sweep_rule(ctx: Ctx, complete: bool, expected: list[tuple[str, int]]) -> None:
    target = Target()
    extra: dict[str, Any] = {}
    identities.end_of_run(ctx, target, complete, extra)
    assert target.client.made == expected
    assert extra["identities_pushed"] == ctx.extra["identities_pushed"]
