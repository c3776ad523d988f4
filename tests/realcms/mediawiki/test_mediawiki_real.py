"""pushcrawl's mediawiki connector against a real MediaWiki (Debian's package on SQLite, seeded by bed.py).

Expected pages come from the wiki's own API at test time (``canonicalurl`` of every non-redirect page), not
from a list written here: the bed is reused between sessions and these tests edit it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.realcms.conftest import Index
from tests.realcms.mediawiki import bed

pytestmark = pytest.mark.realcms


def canonical_urls(api_url: str, session: requests.Session | None = None) -> set[str]:
    """Every non-redirect article (namespace 0) as MediaWiki itself names it."""
    http = session or requests.Session()
    params: dict[str, Any] = {
        "action": "query", "format": "json", "formatversion": 2, "generator": "allpages", "gapnamespace": 0,
        "gapfilterredir": "nonredirects", "gaplimit": "max", "prop": "info", "inprop": "url",
    }  # fmt: skip
    urls: set[str] = set()
    while True:
        data = http.get(api_url, params=params, timeout=60).json()
        assert "error" not in data, data
        urls |= {p["canonicalurl"] for p in data["query"]["pages"]}
        if "continue" not in data:
            return urls
        params.update(data["continue"])


def logged_in(info: dict[str, Any]) -> requests.Session:
    """A session of the bot account on the private door (the Action API's bot-password login)."""
    http = requests.Session()
    api = info["private_api_url"]
    token = http.get(api, params={"action": "query", "meta": "tokens", "type": "login", "format": "json"}, timeout=60)
    login = http.post(
        api,
        data={"action": "login", "lgname": info["bot_user"], "lgpassword": info["bot_password"],
              "lgtoken": token.json()["query"]["tokens"]["logintoken"], "format": "json"},
        timeout=60,
    )  # fmt: skip
    assert login.json()["login"]["result"] == "Success", login.text
    return http


def url(info: dict[str, Any], path: str) -> str:
    return f"{info['base_url']}/wiki/{path}"


def test_anonymous_full_run_indexes_every_article(tmp_path: Path, mediawiki: dict[str, Any]) -> None:
    expected = canonical_urls(mediawiki["api_url"])
    index = Index(tmp_path, "mediawiki", {"api_url": mediawiki["api_url"]})
    report = index.crawl("--full")
    assert report["counts"]["pushed"] == len(expected) >= 9
    # non-ASCII title and body through the CLI's own search
    assert [h["uri"] for h in index.search("Lagünenwasser")] == [url(mediawiki, "Caf%C3%A9_%C3%96l%C3%BCdeniz")]
    with index.reader() as read:
        assert read.uris() == expected
        assert url(mediawiki, "Seals") not in expected  # the redirect is not an article
        assert read.search("oldpierword") == []  # the deleted page
        assert [h["title"] for h in read.search("tokyowikiword")] == ["東京"]
        assert [h["uri"] for h in read.search("bowlinewordzz")] == [url(mediawiki, "Guides/Knots/Bowline")]  # sub-page
        assert [h["title"] for h in read.search("harbourrulesword")] == [bed.PROTECTED]  # protected: still readable
        assert read.search("anemonefield") and read.search("habitat") == []  # wikitext mode drops the template


def test_private_wiki_needs_the_bot_password(tmp_path: Path, mediawiki: dict[str, Any]) -> None:
    (tmp_path / "anon").mkdir()
    anonymous = Index(tmp_path / "anon", "mediawiki", {"api_url": mediawiki["private_api_url"]})
    refused = anonymous.crawl(ok=False)
    assert "requires a login to read (readapidenied" in refused["_log"]
    assert refused.get("counts", {}).get("pushed", 0) == 0

    (tmp_path / "bot").mkdir()
    options = {
        "api_url": mediawiki["private_api_url"],
        "auth": {"username": mediawiki["bot_user"], "password": "${BOT}"},
    }
    index = Index(tmp_path / "bot", "mediawiki", options, env={"BOT": mediawiki["bot_password"]})
    report = index.crawl("--full")
    expected = canonical_urls(mediawiki["private_api_url"], logged_in(mediawiki))
    assert report["counts"]["pushed"] == len(expected) >= 9
    assert mediawiki["bot_password"] not in report["_log"]
    with index.reader() as read:
        assert read.uris() == expected
        assert all(u.startswith(f"http://127.0.0.1:{mediawiki['private_port']}/wiki/") for u in expected)


def test_incremental_runs_push_exactly_what_changed(tmp_path: Path, mediawiki: dict[str, Any]) -> None:
    run = bed.run_dir()
    bed.maintenance(run, "edit", "--user", bed.ADMIN, "Short-lived note", stdin="An ephemeralword note.")
    index = Index(tmp_path, "mediawiki", {"api_url": mediawiki["api_url"]})
    first = index.crawl()
    assert first["counts"]["pushed"] == len(canonical_urls(mediawiki["api_url"]))

    word = "quillwort" + secrets.token_hex(3)
    bed.maintenance(
        run, "edit", "--user", bed.ADMIN, "Tide Pools", stdin=f"Tide pools hold a {word} colony.\n[[Category:Coast]]"
    )
    (run / "seed" / "gone.txt").write_text("Short-lived note\n", encoding="utf-8")
    bed.maintenance(run, "deleteBatch", "-u", bed.ADMIN, "-r", "test", str(run / "seed" / "gone.txt"))
    bed.maintenance(run, "edit", "--user", bed.ADMIN, "Nouvelle Île", stdin=f"Une île fresh{word}.")
    try:
        second = index.crawl()
        assert second["mode"] == "incremental"
        assert second["counts"]["pushed"] == 2, second  # the edit and the new page, nothing else
        assert second["deleted_ids"] == [url(mediawiki, "Short-lived_note")]
        with index.reader() as read:
            assert [h["uri"] for h in read.search(word)] == [url(mediawiki, "Tide_Pools")]
            assert [h["uri"] for h in read.search(f"fresh{word}")] == [url(mediawiki, "Nouvelle_%C3%8Ele")]
            assert read.uris() == canonical_urls(mediawiki["api_url"])

        third = index.crawl()  # nothing changed in the wiki
        assert (third["counts"]["pushed"], third["counts"]["deleted"], third["batches"]) == (0, 0, 0), third
    finally:  # the bed as seeded, for the next session
        bed.maintenance(run, "edit", "--user", bed.ADMIN, "Tide Pools", stdin=bed.PAGES["Tide Pools"][-1])
        (run / "seed" / "gone.txt").write_text("Nouvelle Île\n", encoding="utf-8")
        bed.maintenance(run, "deleteBatch", "-u", bed.ADMIN, "-r", "test", str(run / "seed" / "gone.txt"))
