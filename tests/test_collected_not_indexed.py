"""The "collected, not indexed" list is measured against the target's real index fields (issue 17, finding 15).

A field that exists in the index but is not declared in settings.yaml indexes its metadata; a field declared
but never created does not. The report must follow the index, as Coveo does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import read_report, run_cli

pytestmark = pytest.mark.integration

PAGE = """<html><head><title>Names</title><meta name="Foo Bar!" content="fb"><meta name="123abc" content="n">
<meta name="déjà-vu" content="dv"></head><body><main><p>some words</p></main></body></html>"""


def _settings(tmp: Path, name: str, declare: str) -> Path:
    path = tmp / name
    path.write_text(
        f"""
target: local
targets:
  local: {{kind: local, data_dir: idx}}
sites:
  names:
    connector: sitemap
    options: {{sitemap_urls: ["{(tmp / "sitemap.xml").as_uri()}"]}}
    fields: {{declare: {declare}}}
""",
        encoding="utf-8",
    )
    return path


def test_report_compares_metadata_with_the_index_fields(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{(tmp_path / 'page.html').as_uri()}</loc></url></urlset>",
        encoding="utf-8",
    )
    creator = _settings(tmp_path, "creator.yaml", "{deja_vu: string}")  # creates the field in the index
    assert run_cli("fields", "sync", "--settings", str(creator)).returncode == 0
    crawler = _settings(tmp_path, "settings.yaml", "{foo_bar: string}")  # declared, never created
    result = run_cli("crawl", "names", "--settings", str(crawler), "--report", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr[-2000:]
    report = read_report(tmp_path / "r.json")
    assert report["collected_not_indexed"] == ["f_123abc", "foo_bar"]
    assert report["extra"]["collected_not_indexed_basis"] == "target index fields"
