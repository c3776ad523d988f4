"""Permission evaluation (docs/push-api-contract.md, "Permissions") as a matrix, then end to end: identities and
search."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crawler.localapi.security import evaluate
from tests.localapi.conftest import Client

P = "prov"
EXAMPLE = Path(__file__).parent / "identity-batch.json"


def perm(name: str, provider: str = P) -> dict[str, Any]:
    return {"identity": name, "identityType": "User", "securityProvider": provider}


def pset(allow: list[str] = (), deny: list[str] = (), anon: bool = False) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "allowAnonymous": anon,
        "allowedPermissions": [perm(a) for a in allow],
        "deniedPermissions": [perm(d) for d in deny],
    }


def level(*sets: dict[str, Any]) -> dict[str, Any]:
    return {"name": None, "permissionSets": list(sets)}


def user(*names: str) -> set[tuple[str, str]]:
    return {(P, n) for n in names}


MATRIX = [
    # (description, levels, principal, expected)
    ("no permissions = public", None, None, True),
    ("allowed user", [level(pset(["ann"]))], user("ann"), True),
    ("not mentioned", [level(pset(["ann"]))], user("bob"), False),
    ("anonymous set, anonymous user", [level(pset(anon=True))], None, True),
    ("anonymous set, any user", [level(pset(anon=True))], user("bob"), True),
    ("allowed set, anonymous user", [level(pset(["ann"]))], None, False),
    ("deny beats allow in one set", [level(pset(["ann"], ["ann"]))], user("ann"), False),
    ("deny beats allowAnonymous", [level(pset(anon=True, deny=["ann"]))], user("ann"), False),
    (
        "deny in another set of the level",
        [level(pset(["ann"]), pset(["ann"], ["grp"]))],
        user("ann", "grp"),
        False,
    ),
    ("all sets of a level must pass", [level(pset(["ann"]), pset(["grp"]))], user("ann"), False),
    ("all sets pass", [level(pset(["ann"]), pset(["grp"]))], user("ann", "grp"), True),
    ("first level decides allow", [level(pset(["ann"])), level(pset(deny=["ann"]))], user("ann"), True),
    ("first level decides deny", [level(pset(deny=["ann"])), level(pset(["ann"]))], user("ann"), False),
    ("inconclusive level falls through", [level(pset(["bob"])), level(pset(["ann"]))], user("ann"), True),
    ("nothing decides = no access", [level(pset(["bob"])), level(pset(["carl"]))], user("ann"), False),
    (
        "provider matters",
        [
            level(
                {
                    "allowAnonymous": False,
                    "allowedPermissions": [perm("ann", "other")],
                    "deniedPermissions": [],
                }
            )
        ],
        user("ann"),
        False,
    ),
]


@pytest.mark.parametrize("desc,levels,principal,expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_evaluation_matrix(desc: str, levels: Any, principal: Any, expected: bool) -> None:
    assert evaluate(levels, principal) is expected


def test_missing_provider_uses_source_default() -> None:
    levels = [
        level(
            {
                "allowAnonymous": False,
                "allowedPermissions": [{"identity": "ann", "identityType": "User", "securityProvider": None}],
                "deniedPermissions": [],
            }
        )
    ]
    assert evaluate(levels, user("ann"), default_provider=P)
    assert not evaluate(levels, {("other", "ann")}, default_provider=P)
    assert evaluate(levels, {("other", "ann")}, default_provider=None)  # no provider attached: any provider


def _identity(
    client: Client, provider: str, body: dict[str, Any], path: str = "permissions", method: str = "PUT"
) -> None:
    r = client.call(method, f"{client.push}/providers/{provider}/{path}", body)
    assert (r.status_code, r.json()) == (202, {}), r.text


def ident(name: str, typ: str = "USER") -> dict[str, Any]:
    return {"name": name, "type": typ, "additionalInfo": {}}


def test_search_as_user_through_groups_aliases_and_granted(client: Client, source: str) -> None:
    kb = "KB Identity Provider"
    r = client.call("PUT", f"{client.platform}/securityproviders/{kb}", {"name": kb, "sources": [{"id": source}]})
    assert r.status_code == 200, r.text
    # Engineering has dev1 and nested Platform-Team (dev2); Engineering is granted AllStaff.
    _identity(
        client,
        kb,
        {
            "identity": ident("Engineering", "GROUP"),
            "members": [ident("dev1"), ident("Platform-Team", "GROUP")],
            "wellKnowns": [ident("AllStaff", "VIRTUAL_GROUP")],
        },
    )
    _identity(client, kb, {"identity": ident("Platform-Team", "Group"), "members": [ident("dev2")]})
    for dev in ("dev1", "dev2", "dev3"):
        _identity(
            client,
            kb,
            {
                "identity": ident(dev),
                "mappings": [{**ident(f"{dev}@example.com"), "provider": "Email Security Provider"}],
            },
            path="mappings",
        )
    docs = {
        "https://kb.test/eng": [
            {
                "allowAnonymous": False,
                "allowedPermissions": [{"identity": "Engineering", "identityType": "Group"}],
                "deniedPermissions": [],
            }
        ],
        "https://kb.test/all": [
            {
                "allowAnonymous": False,
                "allowedPermissions": [
                    {"identity": "AllStaff", "identityType": "VirtualGroup", "securityProvider": kb}
                ],
                "deniedPermissions": [
                    {
                        "identity": "dev2@example.com",
                        "identityType": "User",
                        "securityProvider": "Email Security Provider",
                    }
                ],
            }
        ],
        "https://kb.test/pub": [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}],
    }
    for doc_id, perms in docs.items():
        client.put_doc(source, doc_id, {"data": "badger", "permissions": perms})
    client.idle()

    def uris(who: str | None) -> set[str]:
        key = client.token(who) if who else None
        return {h["uri"] for h in client.search("badger", key=key)["results"]}

    assert uris(None) == {"https://kb.test/pub"}  # API key = anonymous
    assert uris("dev1@example.com") == set(docs)
    assert uris("dev2@example.com") == {"https://kb.test/eng", "https://kb.test/pub"}  # nested + denied
    assert uris("dev3@example.com") == {"https://kb.test/pub"}
    # Disabling the nested group cuts dev2 off from Engineering.
    _identity(client, kb, {"identity": ident("Platform-Team", "GROUP")}, method="DELETE")
    client.idle()
    assert uris("dev2@example.com") == {"https://kb.test/pub"}


def test_identity_batch_and_older_than(client: Client) -> None:
    import json

    batch = json.loads(EXAMPLE.read_text())
    file_id = client.upload(json.dumps(batch).encode())
    r = client.call("PUT", f"{client.push}/providers/kb/permissions/batch", fileId=file_id, orderingId=100)
    assert (r.status_code, r.json()) == (202, {})
    client.idle()
    _identity(client, "kb", {"identity": ident("fresh")})  # default orderingId = now (ms), far above 100
    client.idle()
    with client.server.store.read() as db:
        names = {r[0] for r in db.execute("SELECT name FROM identities WHERE disabled=0")}
    assert names == {"Engineering", "Platform-Team", "dev1", "dev2", "fresh"}
    r = client.call("DELETE", f"{client.push}/providers/kb/permissions/olderthan", orderingId=101, queueDelay=0)
    assert r.status_code == 202
    client.idle()
    with client.server.store.read() as db:
        names = {r[0] for r in db.execute("SELECT name FROM identities WHERE disabled=0")}
    assert names == {"fresh"}
    bad = client.call("PUT", f"{client.push}/providers/kb/permissions", {"identity": {"name": ""}})
    assert (bad.status_code, bad.json()["errorCode"]) == (400, "INVALID_JSON")
