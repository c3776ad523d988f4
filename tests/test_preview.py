"""``pushcrawl preview``: per-item view of what would be pushed, drop reasons, single URL; broken sites say why.

Runs the real CLI against a scaffolded connector and its fixture CMS. Preview must push nothing and leave no
state behind: the project folder gains no ``.pushcrawl`` directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.devkit_support import Project, fixture_cms, free_port, new_project

pytestmark = pytest.mark.integration


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return new_project(tmp_path)


def test_first_items_are_shown_mapped_and_nothing_is_pushed(project: Project) -> None:
    with fixture_cms(project) as url:
        proc = project.cli("preview", "intranet", "--limit", "3", env={project.env_var: url})
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert f"#1 {url}/welcome" in out and f"#3 {url}/howto/vpn" in out and "#4" not in out
    assert "    section      = how-to" in out  # fields as the fields pipeline maps them
    assert '    tags         = ["vpn", "remote work"]' in out
    assert "  permissions: everyone (anonymous)" in out
    assert "preview of intranet: 3 item(s) shown" in out and "nothing was pushed" in out
    assert not (project.root / ".pushcrawl").exists()


def test_one_url_with_json_and_specific_permissions(project: Project) -> None:
    allowed = "sites.intranet.security.allowed=[{identity: staff@acme.test, type: Group}]"
    with fixture_cms(project) as url:
        proc = project.cli(
            "preview",
            "intranet",
            f"{url}/api/pages/3",
            "--json",
            "-s",
            "sites.intranet.security.mode=specific",
            "-s",
            allowed,
            env={project.env_var: url},
        )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert f"#1 {url}/howto/vpn" in out and "#2" not in out
    assert "  permissions: allowed Group:staff@acme.test" in out
    body = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert body["documentId"] == f"{url}/howto/vpn"
    assert body["permissions"][0]["allowedPermissions"][0]["identity"] == "staff@acme.test"


def test_drop_reasons_per_item_and_in_the_summary(project: Project) -> None:
    sample = project.root / "intranet" / "sample_data" / "pages.json"
    pages = json.loads(sample.read_text())
    pages.append({"id": "6", "path": "/blank", "updated": "2025-09-11T00:00:00Z", "body": ""})  # no title/text
    pages.append({"id": "7", "title": "no path", "updated": "2025-09-12T00:00:00Z"})  # malformed for the mapping
    sample.write_text(json.dumps(pages))
    with fixture_cms(project) as url:
        proc = project.cli("preview", "intranet", "--limit", "20", env={project.env_var: url})
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert f"#6 {url}/blank  DROPPED: empty: {url}/blank has no text and no title" in out
    assert "dropped by reason: empty 1, malformed 1" in out
    assert "6 item(s) shown" in out


def test_a_page_that_does_not_exist(project: Project) -> None:
    with fixture_cms(project) as url:
        proc = project.cli("preview", "intranet", f"{url}/api/pages/404", env={project.env_var: url})
    assert proc.returncode == 1
    assert f"problem: could not fetch {url}/api/pages/404: HTTP 404" in proc.stdout


def test_a_cms_that_does_not_answer(project: Project) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    proc = project.cli("preview", "intranet", env={project.env_var: dead})
    assert proc.returncode == 1
    assert f"problem: cannot reach the CMS at {dead}/api/status" in proc.stdout


def test_a_cms_refusing_the_key(project: Project) -> None:
    settings = project.root / "settings.yaml"
    settings.write_text(settings.read_text().replace("# api_key:", "api_key:"))
    with fixture_cms(project, api_key="the-cms-key") as url:
        proc = project.cli("preview", "intranet", env={project.env_var: url, "INTRANET_API_KEY": "bad-key-0000"})
    assert proc.returncode == 1
    assert "problem: the CMS refused the API key (401" in proc.stdout
    assert "bad-key-0000" not in proc.stdout + proc.stderr


def test_unknown_site_is_a_settings_error(project: Project) -> None:
    proc = project.cli("preview", "nope")
    assert proc.returncode == 2
    assert "sites.nope" in proc.stderr and "known: intranet" in proc.stderr
