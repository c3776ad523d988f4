"""wagtail, mediawiki, web and sitemap (incremental) end to end: the real CLI crawls each fixture into the
local Push API.

Per connector: the first run pushes everything; the fixture then changes one item and removes one; the
second (incremental) run pushes exactly the change and deletes exactly the removed item; search finds the
new text. Each fixture server runs in this process on 127.0.0.1; the CLI runs in a subprocess.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import cli_in_process, read_report, run_cli
from tests.fixtures.mediawiki_server import MediaWikiServer
from tests.fixtures.sitemap_server import SitemapServer
from tests.fixtures.wagtail_server import WagtailServer
from tests.fixtures.web_server import WebServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _settings(tmp_path: Path, connector: str, options: dict[str, Any]) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(
        "target: local\n"
        "targets:\n  local: {kind: local, data_dir: local-index}\n"
        f"state_dir: state\nsites:\n  cms:\n    connector: {connector}\n    options: {json.dumps(options)}\n",
        encoding="utf-8",
    )
    return path


def _crawl(settings: Path, tmp_path: Path, name: str) -> dict[str, Any]:
    result = run_cli("crawl", "cms", "--settings", str(settings), "--report", str(tmp_path / name))
    assert result.returncode == 0, result.stderr[-4000:]
    report = read_report(tmp_path / name)
    assert report["status"] == "finished" and report["counts"]["errors"] == 0, report
    return report


def _search(settings: Path, word: str) -> int:
    result = cli_in_process("search", word, "--json", "--settings", str(settings))  # no crawl: no process
    assert result.returncode == 0, result.stderr
    return int(json.loads(result.stdout)["totalCount"])


def _two_runs(
    tmp_path: Path, connector: str, options: dict[str, Any], first_count: int, edit: Callable[[], str], removed: str
) -> None:
    settings = _settings(tmp_path, connector, options)
    first = _crawl(settings, tmp_path, "r1.json")
    assert first["counts"]["pushed"] == first_count
    assert first["deleted_ids"] == []
    word = edit()
    second = _crawl(settings, tmp_path, "r2.json")
    assert second["counts"]["pushed"] == 1, second
    assert second["deleted_ids"] == [removed], second
    assert second["counts"]["deleted"] == 1
    assert _search(settings, word) == 1


def test_wagtail_two_runs(tmp_path: Path) -> None:
    with WagtailServer() as srv:

        def edit() -> str:
            srv.change_page(7, "<p>Now with a zanzibarite map of every postcard.</p>")
            srv.remove_page(8)
            return "zanzibarite"

        _two_runs(tmp_path, "wagtail", {"base_url": srv.base_url}, 8, edit, f"{srv.base_url}/about/")


def test_mediawiki_two_runs(tmp_path: Path) -> None:
    with MediaWikiServer() as srv:

        def edit() -> str:
            srv.edit_page("Tide Pools", "Tide pools hold a quillwort colony.")
            srv.delete_page("Seal Watching")
            return "quillwort"

        _two_runs(
            tmp_path,
            "mediawiki",
            {"api_url": f"{srv.base_url}/w/api.php"},
            6,
            edit,
            f"{srv.base_url}/wiki/Seal_Watching",
        )


def test_web_two_runs(tmp_path: Path) -> None:
    with WebServer() as srv:

        def edit() -> str:
            srv.change("rides/hill-reps.html", "regroup at the top", "regroup at the gazebo of marzipanville")
            srv.remove("contact.html")
            return "marzipanville"

        _two_runs(
            tmp_path,
            "web",
            {"start_urls": [f"{srv.base_url}/"], "max_depth": 2},
            11,
            edit,
            f"{srv.base_url}/contact.html",
        )


def test_sitemap_incremental_two_runs(tmp_path: Path) -> None:
    with SitemapServer() as srv:

        def edit() -> str:
            srv.change("/guides/stoves.html", "Never cook inside the tent; use a windshield of aluminiumfoil.")
            srv.remove("/guides/tents.html")
            return "aluminiumfoil"

        _two_runs(
            tmp_path,
            "sitemap",
            {"sitemap_urls": [f"{srv.base_url}/sitemap.xml"]},
            4,
            edit,
            f"{srv.base_url}/guides/tents.html",
        )
