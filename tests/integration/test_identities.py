"""Security identities end to end against the real local Push API: incremental runs send only changed
identities, identities of a refused batch are sent again (rule 2), the full-run identity sweep passes the
mass-deletion guard, a provider shared by two sites is swept per site, and groups made by
``over_limit: collapse`` reach the provider before their documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import read_report, run_cli
from tests.integration.push_helpers import (
    SYNTHETIC,
    client_for,
    create_secured_source,
    local_api,
    query,
    settings_text,
    target_yaml,
)

pytestmark = pytest.mark.integration

SECURED = "{mode: content_system}"


def _crawl(settings: Path, key: str, *extra: str, site: str = "synth") -> tuple[int, dict, str]:
    report_file = settings.parent / f"report-{site}.json"
    report_file.unlink(missing_ok=True)
    result = run_cli(
        "crawl", site, "--settings", str(settings), "--report", str(report_file), *extra, env={"PUSH_TEST_KEY": key}
    )
    return result.returncode, read_report(report_file), result.stderr + result.stdout


def _provider(server, provider: str = "synth-identities") -> dict[str, int]:
    """identity name → disabled flag, as the local provider holds them."""
    return dict(query(server, "SELECT name, disabled FROM identities WHERE provider = ?", provider))


def _identity_batches(server) -> int:
    return len(query(server, "SELECT id FROM activity WHERE operation LIKE '%IDENTIT%'"))


def test_incremental_runs_push_only_identities_that_changed(tmp_path: Path) -> None:
    with local_api(tmp_path / "index") as (server, key):
        settings = tmp_path / "settings.yaml"
        settings.write_text(settings_text(server, "{count: 5, size: 100, identities: 4}", security=SECURED))
        create_secured_source(settings, key)
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert (report["extra"]["identities_pushed"], report["extra"]["identities_unchanged"]) == (5, 0)
        assert server.wait_idle(60)
        batches = _identity_batches(server)
        assert batches >= 1

        code, report, log = _crawl(settings, key)  # nothing changed in the content system
        assert code == 0, log[-3000:]
        assert (report["extra"]["identities_pushed"], report["extra"]["identities_unchanged"]) == (0, 5)
        assert "security identities: pushed 0 · unchanged 5" in log
        assert server.wait_idle(60)
        assert _identity_batches(server) == batches  # not one identity request

        # a new user joins the group: the user and the group (new member) go out, the other four do not
        settings.write_text(settings_text(server, "{count: 5, size: 100, identities: 5}", security=SECURED))
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert (report["extra"]["identities_pushed"], report["extra"]["identities_unchanged"]) == (2, 4)
        assert server.wait_idle(60)
        assert _provider(server).get("user4@example.com") == 0
        client = client_for(server, key)
        newcomer = client.search_token("user4@example.com", "synth-identities")
        assert client.search("synthetic", token=newcomer, count=5)["totalCount"] == 5
        stranger = client.search_token("user9@example.com", "synth-identities")
        assert client.search("synthetic", token=stranger, count=5)["totalCount"] == 0


def test_full_run_identity_sweep_is_refused_over_max_deletions_then_allowed(tmp_path: Path) -> None:
    with local_api(tmp_path / "index") as (server, key):
        settings = tmp_path / "settings.yaml"
        settings.write_text(settings_text(server, "{count: 5, size: 100, identities: 20}", security=SECURED))
        create_secured_source(settings, key)
        code, report, log = _crawl(settings, key, "--full")
        assert code == 0, log[-3000:]
        assert report["extra"]["identities_pushed"] == 21
        gone = {f"user{u}@example.com" for u in range(10, 20)}

        # half of the users vanish: 10 of 21 known identities is over the default 10 %
        settings.write_text(settings_text(server, "{count: 5, size: 100, identities: 10}", security=SECURED))
        dry = run_cli("crawl", "synth", "--full", "--dry-run", "--settings", str(settings), env={"PUSH_TEST_KEY": key})
        assert dry.returncode == 3, dry.stderr[-3000:]  # a dry run says the real run would be refused
        lines = [json.loads(x) for x in dry.stdout.splitlines() if x.startswith('{"wouldDisableIdentity"')]
        assert {x["wouldDisableIdentity"] for x in lines} == {f"USER:{u}" for u in gone}
        assert "would disable 10" in dry.stdout + dry.stderr
        assert "a real run would be refused" in dry.stdout + dry.stderr

        code, report, log = _crawl(settings, key, "--full")
        assert code == 3, log[-3000:]
        assert "would disable 10 of 21 known security identities of provider synth-identities" in log
        assert "--allow-mass-deletion" in log
        assert server.wait_idle(60)
        assert not any(_provider(server).values())  # nothing disabled

        code, report, log = _crawl(settings, key, "--full", "--allow-mass-deletion")
        assert code == 0, log[-3000:]
        assert server.wait_idle(60)
        assert {name for name, disabled in _provider(server).items() if disabled} == gone
        # the next full run knows 11 identities and disables none
        code, report, log = _crawl(settings, key, "--full")
        assert code == 0, log[-3000:]
        assert "disabled identities of provider synth-identities not pushed since" in log
        assert ": 0 known to this site" in log


def _two_sites(server, a_users: int, b_users: int) -> str:
    def site(prefix: str, users: int) -> str:
        options = f"{{count: 3, size: 100, identities: {users}, user_prefix: {prefix}, group: group-{prefix}}}"
        return f"""
  {prefix}:
    connector: "{SYNTHETIC}"
    options: {options}
    security: {SECURED}
"""

    return f"""{target_yaml(server, "shared")}
sites:{site("a", a_users)}{site("b", b_users)}"""


def test_a_provider_shared_by_two_sites_is_swept_per_site(tmp_path: Path) -> None:
    with local_api(tmp_path / "index") as (server, key):
        settings = tmp_path / "settings.yaml"
        settings.write_text(_two_sites(server, 3, 3))
        create_secured_source(settings, key, "shared")
        for site in ("a", "b"):
            code, _, log = _crawl(settings, key, "--full", site=site)
            assert code == 0, log[-3000:]
        # site a loses two users; its full run must not touch what site b pushed earlier
        settings.write_text(_two_sites(server, 1, 3))
        code, report, log = _crawl(settings, key, "--full", "--allow-mass-deletion", site="a")
        assert code == 0, log[-3000:]
        assert "provider shared with other sites" in report["extra"]["identities_sweep"]
        assert report["extra"]["identities_sweep"].endswith(": 2 known to this site")
        assert server.wait_idle(60)
        disabled = {name for name, flag in _provider(server, "shared-identities").items() if flag}
        assert disabled == {"a1@example.com", "a2@example.com"}


def test_groups_made_by_collapse_reach_the_provider_before_their_documents(tmp_path: Path) -> None:
    with local_api(tmp_path / "index") as (server, key):
        settings = tmp_path / "settings.yaml"
        security = "{mode: content_system, over_limit: collapse}"
        # one document per batch: each goes out while the crawl runs, so the order of the calls shows
        settings.write_text(
            settings_text(server, "{count: 3, size: 100, acl_users: 5200}", "{batch_max_items: 1}", security)
        )
        create_secured_source(settings, key)
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert report["counts"]["pushed"] == 3
        assert report["extra"]["identities_pushed"] == 1  # one ACL, one virtual group
        assert server.wait_idle(60)
        groups = query(server, "SELECT name FROM identities WHERE type = 'VIRTUAL_GROUP'")
        assert len(groups) == 1 and groups[0][0].startswith("pushcrawl-acl-")
        ops = [r[0] for r in query(server, "SELECT operation FROM activity ORDER BY id")]
        first_identity = next(i for i, op in enumerate(ops) if "IDENTITY" in op)
        first_doc = next(i for i, op in enumerate(ops) if op in ("ADD_OR_UPDATE", "BATCH", "ADD_OR_UPDATE_ITEM"))
        assert first_identity < first_doc, ops[:20]  # the group existed before any document used it
        client = client_for(server, key)
        member = client.search_token("user5100@example.com", "synth-identities")
        assert client.search("synthetic", token=member, count=5)["totalCount"] == 3
        stranger = client.search_token("user9999@example.com", "synth-identities")
        assert client.search("synthetic", token=stranger, count=5)["totalCount"] == 0


def test_identities_of_a_refused_batch_are_pushed_by_the_next_run(tmp_path: Path) -> None:
    # rule 2 for identities: a fingerprint is kept only once the provider accepted the batch
    settings = tmp_path / "settings.yaml"
    push = "{retry_max_attempts: 2, retry_backoff_base_s: 0.01, retry_backoff_max_s: 0.02}"
    with local_api(tmp_path / "index", "5xx=1@identity") as (server, key):
        settings.write_text(settings_text(server, "{count: 3, size: 100, identities: 4}", push, SECURED))
        create_secured_source(settings, key)
        code, report, log = _crawl(settings, key)
        assert code != 0 and report["status"] == "failed", log[-3000:]
        assert report["extra"]["identities_pushed"] == 0
        assert _provider(server) == {}
    with local_api(tmp_path / "index") as (server, key):  # the same index, the service healthy again
        settings.write_text(settings_text(server, "{count: 3, size: 100, identities: 4}", push, SECURED))
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert (report["extra"]["identities_pushed"], report["extra"]["identities_unchanged"]) == (5, 0)
        assert server.wait_idle(60)
        assert sorted(_provider(server)) == ["everyone-synthetic"] + [f"user{u}@example.com" for u in range(4)]


def test_identities_reach_the_provider_before_documents_however_slow_the_provider(tmp_path: Path) -> None:
    # The order holds by construction (the push sink's identity barrier), not by timing: every identity call
    # is slowed by 1.5 s, while document batches go out at once. Without the barrier the first document
    # batch is applied while the identity batch is still on its way.
    with local_api(tmp_path / "index", "latency=1500@identity") as (server, key):
        settings = tmp_path / "settings.yaml"
        settings.write_text(
            settings_text(server, "{count: 30, size: 100, identities: 4}", "{batch_max_items: 10}", SECURED)
        )
        create_secured_source(settings, key)
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert report["counts"]["pushed"] == 30 and report["extra"]["identities_pushed"] == 5
        assert server.wait_idle(60)
        ops = [r[0] for r in query(server, "SELECT operation FROM activity ORDER BY id")]
        identity_ops = [i for i, op in enumerate(ops) if "IDENTIT" in op]
        doc_ops = [i for i, op in enumerate(ops) if op in ("ADD_OR_UPDATE", "BATCH", "ADD_OR_UPDATE_ITEM")]
        assert identity_ops and doc_ops, ops
        assert max(identity_ops) < min(doc_ops), ops[:20]
