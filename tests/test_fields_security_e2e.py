"""End to end: the demo site with mapped fields and security rules, pushed into the local Push API, then
searched as different users through the real CLI (one subprocess per command: Scrapy's reactor runs once).

Identities: the local server matches a permission that names no security provider against the user's
identities in any provider (docs/push-api-contract.md, "Permissions", our reading), so single users need no identity
push; the group ``employees`` is pushed to the local server's identity provider (E8) so that searching as its member
expands to it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from crawler import defaults
from tests.fixtures import zygote

pytestmark = pytest.mark.integration
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


def _cli(settings: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return zygote.run([*args, "--settings", str(settings)], cwd=Path.cwd(), timeout=240)


def _search(settings: Path, word: str, user: str | None) -> dict[str, Any]:
    proc = _cli(settings, "search", word, "--json", *(["--as", user] if user else []))
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def _push_group(data_dir: Path, group: str, member: str) -> None:
    """Define ``group`` (members: ``member``, an e-mail identity) in the local server's identity provider."""
    from crawler.localapi import LocalPushAPI

    server = LocalPushAPI(data_dir, org_id=defaults.LOCAL_ORG_ID, api_keys=["test-key"], queue_delay_scale=0)
    server.start()
    try:
        body = {
            "identity": {"name": group, "type": "GROUP", "additionalInfo": {}},
            "members": [{"name": member, "type": "USER", "provider": "Email Security Provider"}],
            "wellKnowns": [],
        }
        url = f"{server.base_url}/push/v1/organizations/{defaults.LOCAL_ORG_ID}/providers/northwind-ldap/permissions"
        resp = requests.put(url, json=body, headers={"Authorization": "Bearer test-key"}, timeout=30)
        assert resp.status_code == 202, resp.text
        assert server.wait_idle(30)
    finally:
        server.stop()


def _uris(result: dict[str, Any]) -> list[str]:
    return [
        str(r["clickUri"]).rsplit("/", 2)[-2] + "/" + str(r["clickUri"]).rsplit("/", 1)[-1] for r in result["results"]
    ]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("e2e")
    user = lambda name: {"identity": f"{name}@northwind.example", "type": "User"}  # noqa: E731
    settings = {
        "target": "local",
        "targets": {"local": {"kind": "local", "data_dir": str(tmp / "local")}},
        "state_dir": str(tmp / "state"),
        "field_defaults": {"rules": [{"drop": ["og_*", "jsonld_*"]}]},
        "sites": {
            "demo": {
                "connector": "sitemap",
                "options": {"sitemap_urls": [str(DEMO / "sitemap.xml")]},
                "security": {
                    "mode": "specific",
                    "allowed": [user("alice"), user("bob"), {"identity": "employees", "type": "Group"}],
                    "rules": [
                        {"when": {"metadata": {"confidentiality": "internal"}}, "deny": [user("bob")]},
                        {"when": {"url_prefix": DEMO.as_uri() + "/policies/"}, "allow": [user("carol")]},
                    ],
                },
                "fields": {
                    "declare": {
                        "taxonomy": {"type": "string", "facet": True},
                        "keywords": {"type": "string", "multi_value": True, "facet": True},
                    },
                    "rules": [
                        {"rename": {"category": "section"}},
                        {"template": {"taxonomy": "{section}/{slug}"}},
                        {"transform": {"taxonomy": ["lowercase"]}},
                    ],
                },
            }
        },
    }
    path = tmp / "settings.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    before = _cli(path, "fields", "list")
    assert before.returncode == 1 and "taxonomy" in before.stdout and "2 missing" in before.stdout
    sync = _cli(path, "fields", "sync")
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert "taxonomy" in sync.stdout and "2 created" in sync.stdout
    after = _cli(path, "fields", "list")
    assert after.returncode == 0 and "0 missing" in after.stdout, after.stdout
    _push_group(tmp / "local", "employees", "dave@northwind.example")
    report_file = tmp / "report.json"
    crawl = _cli(path, "crawl", "demo", "--full", "--report", str(report_file))
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    return path, json.loads(report_file.read_text()), crawl.stderr


def test_run_report_lists_collected_not_indexed(crawled: tuple[Path, dict[str, Any], str]) -> None:
    _, report, stderr = crawled
    assert report["counts"]["pushed"] == 40 and report["counts"]["dropped"] == 0
    assert "confidentiality" in report["collected_not_indexed"] and "section" in report["collected_not_indexed"]
    assert "taxonomy" not in report["collected_not_indexed"]
    assert "collected, not indexed (no field): " in stderr


def test_allowed_user_finds_the_secured_item_denied_user_does_not(crawled: tuple[Path, dict[str, Any], str]) -> None:
    settings, _, _ = crawled
    alice = _search(settings, "salary", "alice@northwind.example")
    assert "policies/salary-bands.html" in _uris(alice)
    hit = next(r for r in alice["results"] if r["clickUri"].endswith("salary-bands.html"))
    assert hit["raw"]["taxonomy"] == "hr/salary-bands"  # the mapped field reached the index
    assert "policies/salary-bands.html" not in _uris(_search(settings, "salary", "bob@northwind.example"))
    assert _search(settings, "salary", None)["totalCount"] == 0  # secured source: nothing anonymous


def test_url_prefix_rule_adds_an_identity_to_that_section_only(crawled: tuple[Path, dict[str, Any], str]) -> None:
    settings, _, _ = crawled
    assert "policies/salary-bands.html" in _uris(_search(settings, "salary", "carol@northwind.example"))
    assert _search(settings, "sleeping", "carol@northwind.example")["totalCount"] == 0
    assert _search(settings, "sleeping", "bob@northwind.example")["totalCount"] >= 1  # bob: only policies denied


def test_group_member_finds_items_allowed_to_the_group(crawled: tuple[Path, dict[str, Any], str]) -> None:
    settings, _, _ = crawled
    assert "articles/choosing-a-sleeping-bag.html" in _uris(_search(settings, "sleeping", "dave@northwind.example"))
    assert _search(settings, "sleeping", "erin@northwind.example")["totalCount"] == 0  # in no allowed group
