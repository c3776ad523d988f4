"""pushcrawl's wordpress connector against a real WordPress (Debian's package, seeded by seed.php).

Every expected count is read from WordPress's own REST API at test time, not written down here: the bed is
reused between sessions and these tests edit it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.realcms.conftest import Index

pytestmark = pytest.mark.realcms

HIDDEN_WORDS = ("quarterdeckium", "draftwordzzz", "pendingwordzzz", "futurewordzzz", "lockedharbourword",
                "secretledgerword")  # fmt: skip


def rest(wp: dict[str, Any], path: str, auth: bool = False, **params: Any) -> list[dict[str, Any]]:
    """Every object of a REST collection, all pages."""
    out: list[dict[str, Any]] = []
    page, pages = 1, 1
    while page <= pages:
        resp = requests.get(
            f"{wp['base_url']}/wp-json/wp/v2/{path}",
            params={**params, "per_page": 100, "page": page},
            auth=(wp["app_user"], wp["app_password"]) if auth else None,
            timeout=60,
        )
        resp.raise_for_status()
        pages = int(resp.headers["X-WP-TotalPages"])
        out.extend(resp.json())
        page += 1
    return out


def public_links(wp: dict[str, Any]) -> set[str]:
    """What an anonymous crawl must index, as WordPress reports it: published posts and pages that are not
    password-protected, and media that stand alone or hang under one of those."""
    links: set[str] = set()
    public_ids: set[int] = set()
    for kind in ("posts", "pages"):
        for post in rest(wp, kind, _fields="id,link,content.protected"):
            if not post["content"]["protected"]:
                links.add(post["link"])
                public_ids.add(post["id"])
    for media in rest(wp, "media", _fields="id,link,post"):
        if not media["post"] or media["post"] in public_ids:
            links.add(media["link"])
    return links


def site(tmp_path: Path, wp: dict[str, Any], security: str = "everyone", **options: Any) -> Index:
    env = {"WP_APP_PASSWORD": wp["app_password"]}
    return Index(tmp_path, "wordpress", {"base_url": wp["base_url"], **options}, security, env)


def test_anonymous_full_run_indexes_what_wordpress_publishes(tmp_path: Path, wordpress: dict[str, Any]) -> None:
    expected = public_links(wordpress)
    index = site(tmp_path, wordpress)
    report = index.crawl("--full")
    assert report["counts"]["pushed"] == len(expected) >= 15
    # non-ASCII title, body and slug, found by the CLI's own search
    assert {h["uri"] for h in index.search("réveillon")} == {f"{wordpress['base_url']}/creme-brulee-au-reveillon/"}
    with index.reader() as read:
        assert read.uris() == expected
        for word in HIDDEN_WORDS:  # private, draft, pending, scheduled, protected, a private post's PDF
            assert read.search(word) == [], word
        assert [h["title"] for h in read.search("Küstenwanderung")] == ["Über die Küste"]
        tokyo = [h["uri"] for h in read.search("東京の地図")]
        assert tokyo == [f"{wordpress['base_url']}/%e6%9d%b1%e4%ba%ac%e3%81%ae%e5%9c%b0%e5%9b%b3/"]
        # the post over 1 MB is indexed to its last paragraph; the PDF's text is searchable
        assert len(read.search("logbookterminus")) == 1
        assert [h["title"] for h in read.search("tidewaterledgerword")] == ["Tidewater ledger"]


def test_content_system_security_follows_wordpress_roles(tmp_path: Path, wordpress: dict[str, Any]) -> None:
    index = site(
        tmp_path,
        wordpress,
        "content_system",
        include_drafts=True,
        protected_content="full",  # the explicit opt-in: a protected post's body, as WordPress's editors see it
        auth={"username": wordpress["app_user"], "password": "${WP_APP_PASSWORD}"},
    )
    report = index.crawl("--full")
    users = rest(wordpress, "users", auth=True, context="edit")
    assert report["extra"]["identities_pushed"] == len(users) + 2  # each user, role:administrator, role:editor
    assert wordpress["app_password"] not in report["_log"]

    with index.reader() as read:

        def sees(word: str) -> set[str]:
            return {who for who in ("alice", "bob", "carol", "dave", "admin") if read.search(word, who)}

        assert sees("quarterdeckium") == {"alice", "admin"}  # alice's private post: its author and the admin
        assert sees("draftwordzzz") == {"bob", "alice", "admin"}  # bob's draft: bob, the editor, the admin
        assert sees("pendingwordzzz") == {"carol", "alice", "admin"}
        assert sees("futurewordzzz") == {"bob", "alice", "admin"}
        assert sees("Küstenwanderung") == {"alice", "bob", "carol", "dave", "admin"}  # published: everyone
        assert sees("secretledgerword") == set()  # a private post's attachment is never indexed
        # protected_content: full indexes the body WordPress gives only in the edit context (it was "" before)
        assert sees("lockedharbourword") == {"alice", "bob", "carol", "dave", "admin"}
        assert read.search("quarterdeckium", "alice@bed.invalid")  # the e-mail alias of alice
        # anonymous sees exactly the public content (with the protected post, opted in above)
        protected = {h["uri"] for h in read.search("lockedharbourword")}
        assert read.uris() == public_links(wordpress) | protected
        for word in HIDDEN_WORDS:
            assert word == "lockedharbourword" or read.search(word) == [], word


def _post(wp: dict[str, Any], method: str, path: str, **body: Any) -> dict[str, Any]:
    resp = requests.request(
        method, f"{wp['base_url']}/wp-json/wp/v2/{path}", json=body or None,
        auth=(wp["app_user"], wp["app_password"]), timeout=60,
    )  # fmt: skip
    resp.raise_for_status()
    return dict(resp.json())


def test_incremental_runs_push_exactly_what_changed(tmp_path: Path, wordpress: dict[str, Any]) -> None:
    doomed = _post(wordpress, "POST", "posts", title="Short-lived note", content="<p>ephemeral</p>", status="publish")
    index = site(tmp_path, wordpress)
    first = index.crawl()
    assert first["counts"]["pushed"] == len(public_links(wordpress))

    word = "zanzibarite" + secrets.token_hex(3)
    tides = wordpress["ids"]["tides"]
    _post(wordpress, "POST", f"posts/{tides}", content=f"<p>Spring tides peak; now with a {word} chart.</p>")
    _post(wordpress, "DELETE", f"posts/{doomed['id']}?force=true")
    fresh = _post(wordpress, "POST", "posts", title="Nouvelle marée", content=f"<p>fresh{word}</p>", status="publish")
    try:
        second = index.crawl()
        assert second["mode"] == "incremental"
        assert second["counts"]["pushed"] == 2, second  # the edit and the new post, nothing else
        assert second["deleted_ids"] == [doomed["link"]]
        tides_link = f"{wordpress['base_url']}/tide-tables-for-the-northern-coast/"
        with index.reader() as read:
            assert [h["uri"] for h in read.search(word)] == [tides_link]
            assert [h["title"] for h in read.search(f"fresh{word}")] == ["Nouvelle marée"]
            assert read.uris() == public_links(wordpress)

        third = index.crawl()  # nothing changed in WordPress
        assert (third["counts"]["pushed"], third["counts"]["deleted"], third["batches"]) == (0, 0, 0), third
    finally:
        _post(wordpress, "DELETE", f"posts/{fresh['id']}?force=true")
