"""Content Browser pages render (plain HTTP; the Chromium tests are in test_browser_chromium.py)."""

from __future__ import annotations

import requests

from tests.localapi.conftest import Client


def test_pages_show_sources_items_metadata_permissions_identities_activity(client: Client, source: str) -> None:
    perms = [
        {
            "allowAnonymous": False,
            "allowedPermissions": [{"identity": "ann@example.com", "identityType": "User"}],
            "deniedPermissions": [],
        }
    ]
    client.put_doc(
        source,
        "https://x.test/a?b=<c>",
        {"title": "Fox <b>den</b>", "data": "vixen", "kb_x": "y", "permissions": perms},
    )
    client.call(
        "PUT",
        f"{client.push}/providers/kb/permissions",
        {"identity": {"name": "grp", "type": "GROUP"}, "members": [{"name": "ann", "type": "USER"}]},
    )
    client.idle()

    def get(path: str, **params: str) -> str:
        r = requests.get(client.base + path, params=params, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        return r.text

    assert "docs" in get("/")
    listing = get(f"/browse/sources/{source}")
    assert "https://x.test/a?b=&lt;c&gt;" in listing and "kb_x" in listing
    detail = get("/browse/item", source=source, documentId="https://x.test/a?b=<c>")
    assert "Fox &lt;b&gt;den&lt;/b&gt;" in detail and "ann@example.com" in detail and "vixen" in detail
    assert "grp" in get("/browse/identities")
    assert "ADD_OR_UPDATE" in get("/browse/activity")
    assert "clickableuri" in get("/browse/fields")
    assert "0 result(s)" in get("/browse/search", q="vixen")
    assert "1 result(s)" in get("/browse/search", q="vixen", user="ann@example.com")
