"""``render:`` end to end: a single-page app crawled by the real CLI through Debian's Chromium (scrapy-playwright)
into the local Push API — rendered content searchable, the raw shell not, bad pages counted with reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.spa_server import SpaServer

pytestmark = [pytest.mark.integration, pytest.mark.browser, NEEDS_CHROMIUM]


@pytest.fixture
def spa() -> Iterator[SpaServer]:
    with SpaServer() as server:
        yield server


def _settings(tmp_path: Path, spa: SpaServer, render: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(
        f"""
state_dir: state
targets: {{local: {{kind: local, data_dir: index}}}}
target: local
sites:
  spa:
    connector: web
    options:
      start_urls: ["{spa.base_url}/"]
      max_depth: 2
      autothrottle: false
      render: {render}
""",
        encoding="utf-8",
    )
    return path


def _crawl(settings: Path, *args: str) -> dict:
    run = run_cli("crawl", "spa", "--json", "-q", "--settings", str(settings), *args, timeout=300)
    assert run.stdout, run.stderr
    report = dict(json.loads(run.stdout))
    report["_stderr"] = run.stderr
    report["_rc"] = run.returncode
    return report


def _hits(settings: Path, word: str) -> list[str]:
    out = run_cli("search", word, "--json", "--settings", str(settings))
    assert out.returncode == 0, out.stderr
    return sorted(r["uri"].rsplit("/", 1)[-1] for r in json.loads(out.stdout)["results"])


def test_rendered_content_is_indexed_and_bad_pages_are_counted(tmp_path: Path, spa: SpaServer) -> None:
    settings = _settings(tmp_path, spa, "{mode: always, wait_for: '#ready', timeout_s: 4}")
    report = _crawl(settings)
    assert report["_rc"] == 0, report["_stderr"]
    assert _hits(settings, "wombat") == ["guide"]  # text the script wrote
    assert _hits(settings, "numbat") == ["data"]  # text loaded by fetch() after the page loaded
    assert _hits(settings, "bilby") == ["pushed"]  # a link that exists only in the rendered DOM
    assert _hits(settings, "potoroo") == ["throws"]  # its script threw after rendering: indexed anyway
    assert _hits(settings, "echidna") == ["plain"]
    assert report["dropped_by_reason"].get("render_timeout") == 1  # /never
    stats = report["extra"].get("render") or {}
    assert stats.get("rendered", 0) >= 6 and stats.get("script_errors", 0) >= 1


def test_without_rendering_the_shell_has_no_content(tmp_path: Path, spa: SpaServer) -> None:
    settings = _settings(tmp_path, spa, "{mode: never}")
    report = _crawl(settings)
    assert report["_rc"] == 0, report["_stderr"]
    assert _hits(settings, "rangers") == []  # the home page's text is written by its script
    assert _hits(settings, "wombat") == []
    assert spa.hits("/guide") == [] and spa.hits("/plain") == []  # their links exist only after the script ran


def test_auto_renders_only_the_pages_that_need_it(tmp_path: Path, spa: SpaServer) -> None:
    settings = _settings(tmp_path, spa, "{mode: auto, wait_for: '#ready', timeout_s: 4}")
    report = _crawl(settings)
    assert report["_rc"] == 0, report["_stderr"]
    assert _hits(settings, "wombat") == ["guide"] and _hits(settings, "echidna") == ["plain"]
    stats = report["extra"]["render"]
    assert stats["plain"] >= 1  # /plain: enough main text, kept as fetched
    assert stats["auto"] >= 5  # every shell was fetched plainly, then rendered
    assert len(spa.hits("/plain")) == 1  # never fetched a second time by the browser


def test_missing_chromium_is_an_error_not_a_silent_fallback(tmp_path: Path, spa: SpaServer) -> None:
    settings = _settings(tmp_path, spa, "{mode: always, executable_path: /nonexistent/chromium}")
    run = run_cli("crawl", "spa", "--settings", str(settings))
    assert run.returncode != 0
    assert "render.executable_path" in run.stderr
    check = run_cli("check", "spa", "--settings", str(settings))
    assert check.returncode != 0 and "render.executable_path" in check.stdout + check.stderr
    assert spa.hits("/") == []  # nothing fetched unrendered


def test_preview_render_shows_plain_and_rendered_text_side_by_side(tmp_path: Path, spa: SpaServer) -> None:
    settings = _settings(tmp_path, spa, "{mode: auto, wait_for: '#ready', timeout_s: 8}")
    out = run_cli("preview", "spa", f"{spa.base_url}/guide", "--render", "--settings", str(settings), timeout=120)
    assert out.returncode == 0, out.stderr
    header, _, *rows = out.stdout.splitlines()
    assert header.startswith("plain fetch (HTTP 200)") and "| rendered in Chromium" in header
    left = " ".join(r.split(" | ")[0] for r in rows if " | " in r)
    right = " ".join(r.split(" | ", 1)[1] for r in rows if " | " in r)
    assert "wombat" in right and "wombat" not in left
    assert "render: auto would render this page" in out.stdout
