"""Effective permissions: the three security modes, conditional rules, fail-closed, the 5,000 limit, and a
property: the pipeline never grants anonymous access to an item whose source ACL does not."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.config import SecurityConfig
from crawler.model import Document, IdentityType, PermissionIdentity, PermissionLevel, Permissions, PermissionSet
from crawler.pushapi.body import permissions_json
from pipelines.acl import MAX_PERMISSIONS, RULES_LEVEL, Refused, resolve

URL = "https://x.example/policies/salary-bands.html"
ALICE = {"identity": "alice@x.example", "type": "User"}
BOB = {"identity": "bob@x.example", "type": "User"}


def _sec(**kw: Any) -> SecurityConfig:
    return SecurityConfig.model_validate(kw)


def _doc(acl: Permissions | None = None, **fields: Any) -> Document:
    return Document(document_id=URL, permissions=acl, fields=fields)


def _user(name: str) -> PermissionIdentity:
    return PermissionIdentity(identity=name, identity_type=IdentityType.USER)


def test_everyone_is_anonymous() -> None:
    perms = resolve(_sec(mode="everyone"), _doc()).permissions
    assert permissions_json(perms) == [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


def test_specific_lists_the_same_identities_for_every_item() -> None:
    perms = resolve(_sec(mode="specific", allowed=[ALICE, ALICE], denied=[BOB]), _doc()).permissions
    [pset] = permissions_json(perms)
    assert pset["allowAnonymous"] is False
    assert pset["allowedPermissions"] == [{"identity": "alice@x.example", "identityType": "User"}]  # de-duplicated
    assert pset["deniedPermissions"] == [{"identity": "bob@x.example", "identityType": "User"}]


@pytest.mark.parametrize(
    ("acl", "reason"),
    [
        (None, "no_permissions"),
        (Permissions(levels=[]), "no_permissions"),
        (Permissions(levels=[PermissionLevel(sets=[])]), "unresolvable_permissions"),
        (Permissions.single_set([_user(" ")]), "unresolvable_permissions"),
        (Permissions.single_set([], [_user("bob")]), "no_access"),
    ],
)
def test_content_system_fails_closed(acl: Permissions | None, reason: str) -> None:
    with pytest.raises(Refused) as info:
        resolve(_sec(mode="content_system"), _doc(acl))
    assert info.value.reason == reason


def test_content_system_keeps_the_connector_acl() -> None:
    acl = Permissions(levels=[PermissionLevel(name="space", sets=[PermissionSet(allowed=[_user("carol")])])])
    perms = resolve(_sec(mode="content_system"), _doc(acl)).permissions
    assert perms == acl and perms is not acl  # a copy: rules never mutate the connector's item


def test_rules_by_metadata_and_url_prefix_form_a_first_level() -> None:
    sec = _sec(
        mode="specific",
        allowed=[ALICE, BOB],
        rules=[
            {"when": {"metadata": {"confidentiality": ["Internal", "secret"]}}, "deny": [BOB]},
            {"when": {"url_prefix": "https://x.example/policies/"}, "allow": [{"identity": "hr"}]},
            {"when": {"url_prefix": "https://x.example/news/"}, "deny": [ALICE]},
        ],
    )
    result = resolve(sec, _doc(confidentiality="internal"), "sites.demo.security")
    first = result.permissions.levels[0]
    assert first.name == RULES_LEVEL
    assert [p.identity for p in first.sets[0].denied] == ["bob@x.example"]
    assert [p.identity for p in first.sets[0].allowed] == ["hr"]
    assert result.notes == ["sites.demo.security.rules[0] applied", "sites.demo.security.rules[1] applied"]
    plain = resolve(sec, _doc(confidentiality="public")).permissions
    assert [lvl.name for lvl in plain.levels] == [RULES_LEVEL, "level-1"]  # only the url rule
    assert resolve(sec, Document(document_id="https://x.example/help/a")).permissions.levels[0].name is None


def test_metadata_condition_reads_raw_metadata_when_no_field() -> None:
    sec = _sec(rules=[{"when": {"metadata": {"Confidentiality": "internal"}}, "deny": [BOB]}])
    doc = Document(document_id=URL, metadata={"confidentiality": "INTERNAL"})
    assert resolve(sec, doc).permissions.levels[0].name == RULES_LEVEL


def test_private_rule_removes_anonymous_access() -> None:
    sec = _sec(rules=[{"when": {"url_prefix": "https://x.example/policies/"}, "allow": [ALICE], "private": True}])
    perms = resolve(sec, _doc()).permissions
    assert not any(s.allow_anonymous for lvl in perms.levels for s in lvl.sets)
    assert [p.identity for p in perms.levels[0].sets[0].allowed] == ["alice@x.example"]


def _big(n: int) -> Permissions:
    return Permissions.single_set([_user(f"u{i}@x.example") for i in range(n)], [_user("mallory")])


def test_over_the_limit_is_dropped_by_default() -> None:
    resolve(_sec(mode="content_system"), _doc(_big(MAX_PERMISSIONS - 1)))
    with pytest.raises(Refused) as info:
        resolve(_sec(mode="content_system"), _doc(_big(MAX_PERMISSIONS)))
    assert info.value.reason == "too_many_permissions" and "over_limit: collapse" in str(info.value)


def test_over_the_limit_collapses_into_a_virtual_group() -> None:
    result = resolve(_sec(mode="content_system", over_limit="collapse"), _doc(_big(MAX_PERMISSIONS + 10)))
    pset = result.permissions.levels[0].sets[0]
    assert len(pset.allowed) == 1 and pset.allowed[0].identity_type == IdentityType.VIRTUAL_GROUP
    assert [p.identity for p in pset.denied] == ["mallory"]  # a single identity stays as it is
    [group] = result.identities
    assert group.name == pset.allowed[0].identity and group.type == "VirtualGroup"
    assert len(group.members) == MAX_PERMISSIONS + 10 and group.members[0].type == "User"
    # the same list gives the same group name, so reruns do not multiply groups
    again = resolve(_sec(mode="content_system", over_limit="collapse"), _doc(_big(MAX_PERMISSIONS + 10)))
    assert again.identities[0].name == group.name


# ---- property: rules can restrict or add identities, never make a non-public ACL public ----

names = st.sampled_from(["alice", "bob", "carol", "hr", "it", "everyone"])
idents = st.builds(PermissionIdentity, identity=names, identity_type=st.sampled_from(list(IdentityType)))
psets = st.builds(
    PermissionSet,
    allow_anonymous=st.booleans(),
    allowed=st.lists(idents, max_size=3),
    denied=st.lists(idents, max_size=2),
)
acls = st.builds(
    Permissions,
    levels=st.lists(
        st.builds(PermissionLevel, name=st.none() | st.sampled_from(["a", "b"]), sets=st.lists(psets, max_size=3)),
        max_size=3,
    ),
)
spec = st.fixed_dictionaries({"identity": names, "type": st.sampled_from(["User", "Group", "VirtualGroup"])})
rules = st.lists(
    st.fixed_dictionaries(
        {
            "when": st.sampled_from(
                [
                    {"url_prefix": "https://x.example/"},
                    {"url_prefix": "https://other/"},
                    {"metadata": {"confidentiality": "internal"}},
                ]
            ),
            "allow": st.lists(spec, min_size=1, max_size=2),
            "deny": st.lists(spec, max_size=2),
            "private": st.booleans(),
        }
    ),
    max_size=3,
)


def _anonymous(perms: Permissions) -> bool:
    return any(s.allow_anonymous for lvl in perms.levels for s in lvl.sets)


@settings(max_examples=300, deadline=None)
@given(
    acl=st.none() | acls,
    rule_list=rules,
    over=st.sampled_from(["drop", "collapse"]),
    conf=st.sampled_from(["internal", "public"]),
)
def test_never_public_unless_the_source_acl_is(
    acl: Permissions | None, rule_list: list[Any], over: str, conf: str
) -> None:
    sec = _sec(mode="content_system", rules=rule_list, over_limit=over)
    source = acl.model_copy(deep=True) if acl is not None else None
    try:
        result = resolve(sec, _doc(acl, confidentiality=conf))
    except Refused:
        return  # dropped: not pushed at all, which is safe
    assert acl is not None and acl == source  # the connector's ACL is never mutated
    if not _anonymous(acl):
        assert not _anonymous(result.permissions)
        sent = permissions_json(result.permissions)  # what goes on the wire
        sets = [s for entry in sent for s in entry.get("permissionSets", [entry])]
        assert not any(s["allowAnonymous"] for s in sets)
    # whatever a rule denies is in the first level, which decides before the item's own levels
    denied = {
        d["identity"]
        for r in rule_list
        if ("https://x.example/" in str(r["when"]) or (conf == "internal" and "metadata" in r["when"]))
        for d in r["deny"]
    }
    if denied:
        assert {p.identity for p in result.permissions.levels[0].sets[0].denied} == denied


@settings(max_examples=100, deadline=None)
@given(rule_list=rules, allowed=st.lists(spec, min_size=1, max_size=3))
def test_specific_mode_is_never_public(rule_list: list[Any], allowed: list[Any]) -> None:
    try:
        perms = resolve(_sec(mode="specific", allowed=allowed, rules=rule_list), _doc()).permissions
    except Refused:
        return
    assert not _anonymous(perms)
