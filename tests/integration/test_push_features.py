"""Push features end to end against the real local Push API as ``kind: coveo``: large items, identities,
``sources create``, a quota that persists, the error-rate breaker, and the literal-key refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import read_report, run_cli
from tests.integration.push_helpers import (
    client_for,
    create_secured_source,
    local_api,
    query,
    settings_text,
    source_id,
    state_items,
)

pytestmark = pytest.mark.integration


def _crawl(settings: Path, key: str, *extra: str) -> tuple[int, dict, str]:
    report_file = settings.parent / "report.json"
    result = run_cli(
        "crawl",
        "synth",
        "--settings",
        str(settings),
        "--report",
        str(report_file),
        *extra,
        env={"PUSH_TEST_KEY": key},
    )
    return result.returncode, read_report(report_file), result.stderr


def test_large_item_via_container_and_oversized_item_dropped(tmp_path: Path) -> None:
    with local_api(tmp_path / "index") as (server, key):
        client_for(server, key).create_source("synth")
        settings = tmp_path / "settings.yaml"
        # a 20 MB PDF (incompressible) must travel in its own file container; with the container cap lowered
        # to 24 MB for the test, a 30 MB one is over it and must be dropped with a reason, counted
        mb = 1024 * 1024
        settings.write_text(
            settings_text(
                server,
                f"{{count: 3, size: 100, binary_sizes: [{20 * mb}, {30 * mb}]}}",
                f"{{container_max_bytes: {24 * mb}}}",
            )
        )
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert report["counts"]["pushed"] == 4
        assert report["dropped_by_reason"] == {"too_large": 1}
        assert "synthetic://bin/1" in log and "over the 25,165,824-byte file container limit" in log
        assert server.wait_idle(120)
        docs = {r[0] for r in query(server, "SELECT document_id FROM items WHERE source_id=?", source_id(server))}
        assert docs == {"synthetic://doc/0", "synthetic://doc/1", "synthetic://doc/2", "synthetic://bin/0"}
        # the PDF's content went up alone: one container holding ~20 MB of compressed bytes
        big = query(server, "SELECT size FROM files WHERE size > ?", 19 * mb)
        assert len(big) == 1


def test_identities_pushed_before_documents_then_swept_by_a_full_run(tmp_path: Path) -> None:
    with local_api(tmp_path / "index") as (server, key):
        settings = tmp_path / "settings.yaml"
        settings.write_text(
            settings_text(server, "{count: 50, size: 200, identities: 5}", security="{mode: content_system}")
        )
        assert "synth-identities" in create_secured_source(settings, key)
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert report["extra"]["identities_pushed"] == 6
        assert server.wait_idle(60)
        rows = query(server, "SELECT name, disabled FROM identities WHERE provider = 'synth-identities'")
        assert sorted(r[0] for r in rows) == ["everyone-synthetic"] + [f"user{u}@example.com" for u in range(5)]
        # identities reached the index before the first document batch
        ops = [r[0] for r in query(server, "SELECT operation FROM activity ORDER BY id")]
        first_identity = next(i for i, op in enumerate(ops) if "IDENTITY" in op)
        first_doc = next(i for i, op in enumerate(ops) if op in ("ADD_OR_UPDATE", "BATCH", "ADD_OR_UPDATE_ITEM"))
        assert first_identity < first_doc, ops[:20]
        # the group sees the documents; a stranger does not
        client = client_for(server, key)
        token = client.search_token("user1@example.com", "synth-identities")
        assert client.search("synthetic", token=token, count=5)["totalCount"] == 50
        # a full run that no longer sees user3 and user4 disables them (the run was proven complete)
        settings.write_text(
            settings_text(server, "{count: 50, size: 200, identities: 3}", security="{mode: content_system}")
        )
        code, report, log = _crawl(settings, key, "--full", "--allow-mass-deletion")  # 2 of 6 is over 10 %
        assert code == 0, log[-3000:]
        assert server.wait_idle(60)
        disabled = {r[0] for r in query(server, "SELECT name FROM identities WHERE disabled = 1")}
        assert disabled == {"user3@example.com", "user4@example.com"}
        statuses = [r[0] for r in query(server, "SELECT detail FROM activity WHERE operation='SET_STATUS' ORDER BY id")]
        assert statuses == ["INCREMENTAL", "IDLE", "REBUILD", "IDLE"]  # around each run: incremental, then full


def test_sources_create_against_local_target_and_name_rule(tmp_path: Path, write_settings) -> None:
    settings = write_settings("""
        target: local
        targets:
          local: {kind: local, data_dir: local-index}
    """)
    bad = run_cli("sources", "create", "my source!", "--settings", str(settings))
    assert bad.returncode != 0
    assert "letters, digits, '-' and '_'" in bad.stderr
    ok = run_cli("sources", "create", "intranet_cms-2", "--security", "content_system", "--settings", str(settings))
    assert ok.returncode == 0, ok.stderr
    assert "source id: pushcrawl-local-" in ok.stdout
    assert "/push/v1/organizations/pushcrawl-local/sources/" in ok.stdout
    again = run_cli("sources", "create", "intranet_cms-2", "--settings", str(settings))
    assert again.returncode != 0 and "already exists" in again.stderr
    from crawler.localapi import LocalPushAPI

    server = LocalPushAPI(tmp_path / "local-index")
    server.start()
    try:
        names = [r[0] for r in query(server, "SELECT name FROM sources")]
        providers = [r[0] for r in query(server, "SELECT id FROM providers")]
    finally:
        server.stop()
    assert names == ["intranet_cms-2"]
    assert providers == ["intranet_cms-2-identities"]


def test_persistent_quota_stops_cleanly_and_next_run_pushes_everything(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    push = "{batch_max_items: 50, retry_max_attempts: 3, retry_backoff_base_s: 0.01, retry_backoff_max_s: 0.05}"
    with local_api(tmp_path / "index", "429=1@batch") as (server, key):
        client_for(server, key).create_source("synth")
        settings.write_text(settings_text(server, "{count: 500, size: 100}", push))
        code, report, log = _crawl(settings, key)
        assert code != 0
        assert report["status"] == "failed"
        assert "still throttled" in report["message"]
        assert state_items(tmp_path / "state" / "state.sqlite") == {}  # nothing acknowledged, nothing recorded
    with local_api(tmp_path / "index") as (server, key):
        settings.write_text(settings_text(server, "{count: 500, size: 100}", push))
        code, report, log = _crawl(settings, key)
        assert code == 0, log[-3000:]
        assert report["counts"]["pushed"] == 500


def test_error_rate_breaker_stops_a_run_failing_everywhere(tmp_path: Path) -> None:
    push = (
        "{batch_max_items: 20, max_in_flight: 1, retry_max_attempts: 2, retry_backoff_base_s: 0.01,"
        " breaker_min_failures: 3}"
    )
    with local_api(tmp_path / "index", "5xx=1@batch") as (server, key):
        client_for(server, key).create_source("synth")
        settings = tmp_path / "settings.yaml"
        settings.write_text(settings_text(server, "{count: 2000, size: 100}", push))
        code, report, _log = _crawl(settings, key)
    assert code != 0
    assert "error-rate breaker" in report["message"]
    assert report["batches"] < 10  # it stopped early instead of failing 100 batches one by one
    assert report["counts"]["pushed"] == 0


def test_literal_api_key_in_settings_is_refused(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        """
target: prod
targets:
  prod: {kind: coveo, organization_id: org, source: s, api_key: xx-1234567890abcdef}
sites: {}
"""
    )
    result = run_cli("sources", "create", "abc", "--settings", str(settings))
    assert result.returncode != 0
    assert "targets.prod.api_key" in result.stderr and "${COVEO_API_KEY}" in result.stderr
    assert "xx-1234567890abcdef" not in result.stderr
