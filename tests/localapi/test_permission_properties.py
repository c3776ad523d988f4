"""Properties of permission evaluation over random permission models (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.localapi.security import evaluate

NAMES = ["ann", "bob", "grp", "all"]
perm = st.sampled_from(NAMES).map(lambda n: {"identity": n, "identityType": "User", "securityProvider": "p"})
pset = st.fixed_dictionaries(
    {
        "allowAnonymous": st.booleans(),
        "allowedPermissions": st.lists(perm, max_size=3),
        "deniedPermissions": st.lists(perm, max_size=2),
    }
)
levels = st.lists(
    st.fixed_dictionaries({"name": st.none(), "permissionSets": st.lists(pset, min_size=1, max_size=3)}),
    min_size=1,
    max_size=3,
)
principal = st.one_of(st.none(), st.sets(st.sampled_from(NAMES), max_size=3).map(lambda s: {("p", n) for n in s}))


def without_denies(model: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**lv, "permissionSets": [{**s, "deniedPermissions": []} for s in lv["permissionSets"]]} for lv in model]


@settings(max_examples=100, deadline=None)
@given(levels, principal)
def test_removing_denies_never_removes_access(model: list[dict[str, Any]], who: Any) -> None:
    assert evaluate(without_denies(model), who) >= evaluate(model, who)


@settings(max_examples=100, deadline=None)
@given(levels, principal)
def test_a_deny_in_the_first_level_always_wins(model: list[dict[str, Any]], who: Any) -> None:
    if who:
        name = sorted(who)[0][1]
        model[0]["permissionSets"][0]["deniedPermissions"].append(
            {"identity": name, "identityType": "User", "securityProvider": "p"}
        )
        assert evaluate(model, who) is False


@settings(max_examples=100, deadline=None)
@given(levels)
def test_anonymous_sees_only_fully_anonymous_levels(model: list[dict[str, Any]]) -> None:
    first = model[0]["permissionSets"]
    # The anonymous user is mentioned by a level only through allowAnonymous, so the first level decides
    # whenever it has an anonymous set.
    if any(s["allowAnonymous"] for s in first):
        assert evaluate(model, None) is all(s["allowAnonymous"] for s in first)
