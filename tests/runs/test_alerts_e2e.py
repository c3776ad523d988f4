"""A scheduled run that fails alerts a webhook (a real receiver on 127.0.0.1), and ``runs show`` names each
dropped and failed item of the run with its reason."""

from __future__ import annotations

import json

import pytest

from tests.conftest import cli_in_process
from tests.runs.conftest import Bench
from tests.test_alerts import Receiver


def test_a_failed_run_alerts_the_webhook_and_runs_show_names_every_failure(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = Receiver()
    try:
        monkeypatch.setenv("PUSHCRAWL_TEST_HOOK", hook.url)
        with bench.settings.open("a", encoding="utf-8") as f:
            f.write("alerts:\n  webhook: ${PUSHCRAWL_TEST_HOOK}\n  when: [failure, rejected>5]\n")
        bench.site.add("blank", "", "")  # nothing to index: dropped as "empty"
        bench.site.fail_listing(0)  # half the pages cannot be listed: the run fails
        done = bench.crawl()
        assert done.returncode == 1, done.stderr
        assert "alert sent: run failed" in done.stderr and hook.url not in done.stderr
        [body] = hook.bodies
        assert body["report"]["status"] == "failed" and "listing" in body["triggers"][0]
        run_id = body["report"]["extra"]["run_id"]

        shown = cli_in_process("runs", "show", str(run_id), "--json", "--settings", str(bench.settings))
        assert shown.returncode == 0, shown.stderr
        failures = json.loads(shown.stdout)["failures"]
        kinds = {(f["kind"], f["id"]) for f in failures}
        assert ("dropped", bench.site.url("blank")) in kinds
        assert any(f["kind"] == "listing" and "sitemap-0.xml" in f["reason"] for f in failures)
        assert all(f["reason"] for f in failures)
        assert "pushcrawl runs show" in done.stderr  # the summary says where the full list is
    finally:
        hook.server.shutdown()
