"""``pushcrawl check``: a good site passes; each broken setup gives its own message and what to do, exit 1.

Broken setups: invalid settings, a CMS that does not answer (wrong URL), a CMS refusing its key, a Coveo-style
target refusing the API key, a missing source, a missing identity provider. The Coveo-style target is the local
Push API reached over HTTP as an external user would (``kind: coveo`` with ``base_url``/``platform_url``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler import defaults
from crawler.localapi import LocalPushAPI
from tests.devkit_support import Project, fixture_cms, free_port, new_project

pytestmark = pytest.mark.integration

GOOD_KEY = "check-test-key-0123456789"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return new_project(tmp_path)


@pytest.fixture
def push_api(tmp_path: Path) -> Iterator[object]:
    server = LocalPushAPI(tmp_path / "coveo-data", org_id="acme", api_keys=[GOOD_KEY])
    server.start()
    yield server
    server.stop()


def coveo_target(project: Project, base_url: str, provider: str | None = None) -> None:
    """Point the project's site at a `kind: coveo` target (the local Push API over HTTP)."""
    text = (project.root / "settings.yaml").read_text()
    extra = f"\n    security_provider: {provider}" if provider else ""
    text = text.replace(
        "target: local\n",
        "target: prod\n",
    ).replace(
        "targets:\n",
        "targets:\n  prod:\n    kind: coveo\n    organization_id: acme\n"
        f"    base_url: {base_url}\n    platform_url: {base_url}\n    api_key: ${{COVEO_API_KEY}}\n"
        f"    source: intranet-cms{extra}\n",
    )
    (project.root / "settings.yaml").write_text(text)


def test_good_site_on_the_local_target_passes_and_lists_settings_with_origins(project: Project) -> None:
    with fixture_cms(project) as url:
        proc = project.cli("check", "intranet", "-s", "push.max_in_flight=2", env={project.env_var: url})
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "ok    site intranet: CMS reachable (ping)" in out
    assert "source 'intranet' for site intranet will be created by the first crawl" in out
    assert "all checks passed" in out

    def origin(key: str) -> str:
        match = re.search(rf"^  {re.escape(key)} += (.*?) +\((.*)\)$", out, re.M)
        assert match, f"{key} not listed"
        return f"{match.group(1)} | {match.group(2)}"

    assert origin("sites.intranet.options.base_url") == f"{url} | environment ($INTRANET_URL)"
    assert origin("sites.intranet.options.page_size") == "2 | settings.yaml"
    assert origin("sites.intranet.options.timeout_s") == "10.0 | default"
    assert origin("push.max_in_flight") == "2 | command line (-s push.max_in_flight)"
    assert origin("push.batch_max_items") == f"{defaults.BATCH_MAX_ITEMS} | default"
    assert origin("target") == "local | settings.yaml"


def test_cms_not_answering_is_named_with_what_to_do(project: Project) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    proc = project.cli("check", "intranet", "--no-settings", env={project.env_var: dead})
    assert proc.returncode == 1
    assert f"FAIL  site intranet: the CMS did not answer as expected: cannot reach the CMS at {dead}" in proc.stdout
    assert "→ check sites.intranet.options (URL, credentials)" in proc.stdout


def test_cms_refusing_its_key(project: Project) -> None:
    settings = project.root / "settings.yaml"
    settings.write_text(settings.read_text().replace("# api_key:", "api_key:"))
    with fixture_cms(project, api_key="the-cms-key") as url:
        proc = project.cli(
            "check", "intranet", "--no-settings", env={project.env_var: url, "INTRANET_API_KEY": "not-the-key"}
        )
    assert proc.returncode == 1
    assert "the CMS refused the API key (401" in proc.stdout
    assert "not-the-key" not in proc.stdout


def test_invalid_settings_name_the_key(project: Project) -> None:
    proc = project.cli("check", "-s", "sites.intranet.options.page_size=0")
    assert proc.returncode == 1
    assert "FAIL  site intranet: invalid settings in" in proc.stdout
    assert "sites.intranet.options.page_size" in proc.stdout
    assert "→ fix sites.intranet.options.page_size in" in proc.stdout


def test_unknown_site(project: Project) -> None:
    proc = project.cli("check", "nope")
    assert proc.returncode == 1
    assert "site 'nope' is not defined" in proc.stdout and "use one of: intranet" in proc.stdout


def test_coveo_target_wrong_api_key(project: Project, push_api: object) -> None:
    coveo_target(project, push_api.base_url)  # type: ignore[attr-defined]
    with fixture_cms(project) as url:
        proc = project.cli("check", "intranet", env={project.env_var: url, "COVEO_API_KEY": "wrong-key-value-123"})
    assert proc.returncode == 1
    assert "FAIL  target prod: the API key was refused" in proc.stdout
    assert "→ set targets.prod.api_key" in proc.stdout
    assert "wrong-key-value-123" not in proc.stdout  # redacted everywhere, settings listing included
    assert re.search(r"targets\.prod\.api_key += \*\*\* +\(environment \(\$COVEO_API_KEY\)\)", proc.stdout)


def test_coveo_target_missing_source_then_present(project: Project, push_api: object) -> None:
    coveo_target(project, push_api.base_url)  # type: ignore[attr-defined]
    env = {"COVEO_API_KEY": GOOD_KEY}
    with fixture_cms(project) as url:
        env[project.env_var] = url
        proc = project.cli("check", "intranet", "--no-settings", env=env)
        assert proc.returncode == 1
        assert "ok    target prod: Platform API answers, key accepted" in proc.stdout
        assert "ok    target prod: Push API answers, key may push" in proc.stdout
        assert "FAIL  target prod: source 'intranet-cms' (site intranet) does not exist" in proc.stdout
        assert "→ create it with 'pushcrawl sources create intranet-cms --target prod'" in proc.stdout

        client = _client(push_api)
        client.create_source("intranet-cms")
        proc = project.cli("check", "intranet", "--no-settings", env=env)
    assert proc.returncode == 0, proc.stdout
    assert "ok    target prod: source 'intranet-cms' for site intranet exists" in proc.stdout


def test_coveo_target_missing_identity_provider(project: Project, push_api: object) -> None:
    coveo_target(project, push_api.base_url, provider="intranet-identities")  # type: ignore[attr-defined]
    client = _client(push_api)
    source = client.create_source("intranet-cms")
    env = {"COVEO_API_KEY": GOOD_KEY}
    with fixture_cms(project) as url:
        env[project.env_var] = url
        proc = project.cli("check", "intranet", "--no-settings", env=env)
        assert proc.returncode == 1
        assert "FAIL  target prod: identity provider 'intranet-identities' does not exist" in proc.stdout
        assert "or fix targets.prod.security_provider" in proc.stdout

        client.request(
            "PUT",
            f"{client.platform_root}/securityproviders/intranet-identities",
            json_body={"name": "intranet-identities", "sources": [source["id"]]},
        )
        proc = project.cli("check", "intranet", "--no-settings", env=env)
    assert proc.returncode == 0, proc.stdout
    assert "ok    target prod: identity provider 'intranet-identities' exists" in proc.stdout


def _client(server: object):  # type: ignore[no-untyped-def]
    from crawler.pushapi.client import PushApiClient

    base = server.base_url  # type: ignore[attr-defined]
    return PushApiClient(f"{base}/push/v1", f"{base}/rest", "acme", GOOD_KEY)


def test_coveo_target_unreachable(project: Project) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    coveo_target(project, dead)
    with fixture_cms(project) as url:
        proc = project.cli("check", "intranet", "--no-settings", env={project.env_var: url, "COVEO_API_KEY": "k" * 20})
    assert proc.returncode == 1
    assert f"FAIL  target prod: cannot list sources at {dead}/rest" in proc.stdout
    assert "→ check targets.prod.organization_id and targets.prod.platform_url" in proc.stdout
