"""``pushcrawl check`` asks the target what the key may do: push to *this* source, push identities (issue 17, #14).

The target is the local Push API over HTTP with scoped keys (``push=<sourceId>``, ``identities``), answering
Coveo's privilege evaluator route from those scopes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.localapi import LocalPushAPI
from crawler.pushapi.client import PushApiClient
from tests.devkit_support import Project, fixture_cms, new_project
from tests.test_check import GOOD_KEY, coveo_target

pytestmark = pytest.mark.integration
OTHER_KEY = "key-for-another-source-0123"
PUSH_ONLY = "key-push-only-this-source-0123"


@pytest.fixture
def scoped_api(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "coveo-data"
    first = LocalPushAPI(data, org_id="acme", api_keys=[GOOD_KEY])
    first.start()
    client = _client(first.base_url, GOOD_KEY)
    mine, other = client.create_source("intranet-cms")["id"], client.create_source("elsewhere")["id"]
    first.stop()
    keys = [GOOD_KEY, f"{OTHER_KEY}:push={other}", f"{PUSH_ONLY}:push={mine}"]
    server = LocalPushAPI(data, org_id="acme", api_keys=keys)
    server.start()
    yield server, mine
    server.stop()


def _client(base: str, key: str) -> PushApiClient:
    return PushApiClient(f"{base}/push/v1", f"{base}/rest", "acme", key)


def test_key_for_another_source_fails_with_the_console_privilege_names(tmp_path: Path, scoped_api) -> None:  # type: ignore[no-untyped-def]
    server, _ = scoped_api
    (tmp_path / "p").mkdir()
    project: Project = new_project(tmp_path / "p")
    coveo_target(project, server.base_url)
    with fixture_cms(project) as url:
        bad = project.cli("check", "intranet", "--no-settings", env={project.env_var: url, "COVEO_API_KEY": OTHER_KEY})
        good = project.cli("check", "intranet", "--no-settings", env={project.env_var: url, "COVEO_API_KEY": PUSH_ONLY})
    assert bad.returncode == 1
    assert "FAIL  target prod: the API key may not push items to source 'intranet-cms'" in bad.stdout
    assert "Content > Push items to sources > Custom (Allow on intranet-cms)" in bad.stdout
    assert "Content > Sources > View all" not in bad.stdout  # it has that one
    assert good.returncode == 0, good.stdout
    assert "ok    target prod: the API key may push items to source 'intranet-cms'" in good.stdout


def test_identity_privileges_are_evaluated(scoped_api) -> None:  # type: ignore[no-untyped-def]
    from crawler import privileges

    server, mine = scoped_api
    needed = privileges.push_identities()
    assert privileges.missing(_client(server.base_url, PUSH_ONLY), "acme", needed) == [
        "Content > Push identities to security providers > Allow for all providers"
    ]
    assert privileges.missing(_client(server.base_url, GOOD_KEY), "acme", needed) == []
    assert privileges.missing(_client(server.base_url, PUSH_ONLY), "acme", privileges.push_items(mine, "x")) == []
