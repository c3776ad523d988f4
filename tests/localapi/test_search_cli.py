"""``pushcrawl search`` through the real CLI entry point: ``--aq``, excerpts with highlights in the text
output, and a clear error (exit 2) for advanced-query syntax the server does not support."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from crawler import defaults
from crawler.cli import main
from crawler.commands.search import highlighted
from crawler.localapi import LocalPushAPI

PUBLIC = [{"allowAnonymous": True, "allowedPermissions": [], "deniedPermissions": []}]


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    data = tmp_path / "local"
    with LocalPushAPI(data, org_id=defaults.LOCAL_ORG_ID, api_keys=["k"], queue_delay_scale=0) as server:
        s = requests.Session()
        s.headers["Authorization"] = "Bearer k"
        org = f"{server.base_url}/rest/organizations/{defaults.LOCAL_ORG_ID}"
        push = f"{server.base_url}/push/v1/organizations/{defaults.LOCAL_ORG_ID}"
        src = s.post(f"{org}/sources", json={"name": "docs", "sourceVisibility": "SHARED"}).json()["id"]
        for name, kind in (("guide", "pdf"), ("notes", "html")):
            body = {"data": f"How to install the printers: the {name}.", "title": name.title(), "filetype": kind}
            r = s.put(f"{push}/sources/{src}/documents", params={"documentId": f"https://x.test/{name}"}, json=body)
            assert r.status_code == 202, r.text
        assert server.wait_idle(20)
    path = tmp_path / "settings.yaml"
    path.write_text(f"target: local\ntargets:\n  local:\n    kind: local\n    data_dir: {data}\nsites: {{}}\n")
    return path


def test_aq_filters_and_excerpts_are_printed(settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "printer", "--aq", "@filetype==pdf", "--settings", str(settings)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 result(s) for 'printer' --aq '@filetype==pdf'"), out
    assert "https://x.test/guide" in out and "https://x.test/notes" not in out
    assert "How to install the *printers*: the guide." in out  # "printer" matched "printers" (stemming)


def test_unsupported_aq_is_an_error_not_zero_results(settings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["search", "printer", "--aq", "@filetype==pdf OR @filetype==html", "--settings", str(settings)])
    captured = capsys.readouterr()
    assert code == 2 and "result(s)" not in captured.out
    assert "INVALID_QUERY_SYNTAX" in captured.err and "'OR'" in captured.err, captured.err


def test_highlight_marks_survive_bad_offsets() -> None:
    assert highlighted("a big cat", [{"offset": 6, "length": 3}, {"offset": 2, "length": 3}], False) == "a *big* *cat*"
    assert highlighted("short", [{"offset": 3, "length": 10}, {"offset": -1, "length": 2}], False) == "short"
