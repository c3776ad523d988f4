"""MediaWiki end to end on a private wiki: ``pushcrawl crawl`` (real CLI, subprocess) logs in with a bot password
from ``${ENV}`` and pushes into the local Push API; the password never reaches the logs or the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import read_report, run_cli
from tests.connectors.e2e import Site
from tests.fixtures.mediawiki_server import BOT_PASSWORD, BOT_USER, MediaWikiServer

pytestmark = pytest.mark.integration


@pytest.fixture
def wiki() -> Iterator[MediaWikiServer]:
    with MediaWikiServer(private=True, list_limit=2) as srv:
        yield srv  # type: ignore[misc]


def site(folder: Path, srv: MediaWikiServer, password: str = BOT_PASSWORD) -> Site:
    options = {
        "api_url": srv.base_url + "/w/api.php",
        "batch_size": 2,
        "auth": {"username": BOT_USER, "password": "${MW_BOT_PASSWORD}"},
    }
    created = Site.create(folder, "fieldnotes", "mediawiki", options, env={"MW_BOT_PASSWORD": password})
    settings = json.loads(Path(created.settings).read_text(encoding="utf-8"))
    del settings["sites"]["fieldnotes"]["security"]  # a wiki supplies no permissions: the default applies
    Path(created.settings).write_text(json.dumps(settings), encoding="utf-8")
    return created


def crawl(wiki_site: Site, *extra: str) -> tuple[int, str, dict[str, Any]]:
    """A crawl that may fail: exit code, the log (stderr, then the run's log file) and the report."""
    wiki_site.runs += 1
    report = wiki_site.folder / f"report{wiki_site.runs}.json"
    args = ["crawl", wiki_site.site, "--settings", wiki_site.settings, "--report", str(report), *extra]
    result = run_cli(*args, env=wiki_site.env)
    data = read_report(report)
    log_file = Path(data["log_file"]) if data.get("log_file") else None
    run_log = log_file.read_text(encoding="utf-8") if log_file is not None and log_file.exists() else ""
    return result.returncode, result.stderr + run_log, data


def test_private_wiki_pushes_its_pages(wiki: MediaWikiServer, tmp_path: Path) -> None:
    code, log, report = crawl(site(tmp_path, wiki))
    assert code == 0, log[-3000:]
    assert report["status"] == "finished" and report["counts"]["pushed"] == 6 and report["counts"]["errors"] == 0
    (hit,) = site(tmp_path, wiki).search("sandbar")
    assert hit["title"] == "Seal Watching" and hit["clickUri"] == wiki.base_url + "/wiki/Seal_Watching"
    assert f"logged in to {wiki.base_url}/w/api.php as {BOT_USER}" in log
    assert BOT_PASSWORD not in log and BOT_PASSWORD not in (tmp_path / "report1.json").read_text()


def test_wrong_password_stops_at_ping_and_pushes_nothing(wiki: MediaWikiServer, tmp_path: Path) -> None:
    wrong = "not-the-bot-password-0042"
    code, log, report = crawl(site(tmp_path, wiki, wrong))
    assert code != 0 and report["status"] == "failed"
    assert f"refused the login of user '{BOT_USER}' (Failed: Incorrect username or password" in report["message"]
    assert f"refused the login of user '{BOT_USER}'" in log
    assert not any("prop=revisions" in r.target for r in wiki.requests)
    # the report keeps DESIGN's shape even when the run stops at ping, and counts the failure as an error
    assert report["counts"] == dict.fromkeys(
        ("fetched", "documents", "pushed", "unchanged", "deleted", "dropped"), 0
    ) | {"errors": 1}
    assert wrong not in log and wrong not in (tmp_path / "report1.json").read_text()


def test_session_expiring_mid_run_logs_in_again_and_the_run_completes(tmp_path: Path) -> None:
    with MediaWikiServer(private=True, list_limit=2, drop_sessions_after=5) as srv:
        code, log, report = crawl(site(tmp_path, srv))
        assert srv.drop_sessions_after is None and srv.logins == 3  # ping, the crawl, the crawl again
    assert code == 0, log[-3000:]
    assert report["status"] == "finished" and report["counts"]["pushed"] == 6 and report["counts"]["errors"] == 0
    assert "session lost (assertuserfailed" in log and BOT_PASSWORD not in log


def test_full_run_that_loses_its_login_sweeps_nothing(wiki: MediaWikiServer, tmp_path: Path) -> None:
    wiki_site = site(tmp_path, wiki)
    code, log, _ = crawl(wiki_site)
    assert code == 0, log[-3000:]
    # mid-run the session is dropped and the bot password revoked: the re-login fails
    wiki.drop_sessions_after, wiki.revoke_on_drop = wiki.user_requests + 4, True
    code, log, report = crawl(wiki_site, "--full", "--allow-mass-deletion")  # no guard: completeness alone
    assert code != 0 and report["status"] == "failed"
    assert "nothing swept" in report["message"] and report["deleted_ids"] == []
    assert "login to" in log and "refused the login" in log and BOT_PASSWORD not in log
    found = set().union(*(wiki_site.uris(w) for w in ("welcome", "plovers", "pools", "paths", "sandbar", "café")))
    assert len(found) == 6  # every page of the first run is still in the index
