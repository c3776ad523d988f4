"""``crawl --dry-run`` through the real CLI: per item the exact JSON, then '#' lines with mapping notes and
collected-not-indexed names; secured and dropped items as configured. Needs no Push API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.fixtures import zygote

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"


def _bodies(stdout: str) -> list[tuple[dict[str, Any], list[str]]]:
    """Split the dry-run stream into (body, '#' lines that follow it)."""
    out: list[tuple[dict[str, Any], list[str]]] = []
    decoder = json.JSONDecoder()
    text = stdout
    while text.strip():
        text = text.lstrip()
        if text.startswith("#"):
            line, _, text = text.partition("\n")
            out[-1][1].append(line)
            continue
        body, end = decoder.raw_decode(text)
        out.append((body, []))
        text = text[end:]
    return out


def test_dry_run_prints_bodies_notes_and_collected_names(tmp_path: Path) -> None:
    settings = {
        "state_dir": str(tmp_path / "state"),
        "sites": {
            "demo": {
                "connector": "sitemap",
                "options": {"sitemap_urls": [str(DEMO / "sitemap.xml")]},
                "security": {
                    "mode": "everyone",
                    "rules": [
                        {
                            "when": {"metadata": {"confidentiality": "internal"}},
                            "allow": [{"identity": "people-team", "type": "Group"}],
                            "private": True,
                        }
                    ],
                },
                "fields": {
                    "declare": {"taxonomy": "string", "keywords": "list[string]"},
                    "rules": [{"template": {"taxonomy": "{category}/{slug}"}}, {"drop": ["og_*", "jsonld_*"]}],
                },
            }
        },
    }
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    proc = zygote.run(["crawl", "demo", "--dry-run", "--settings", str(path)], cwd=Path.cwd(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    items = _bodies(proc.stdout)
    assert len(items) == 40
    by_id = {
        body["documentId"].rsplit("/", 2)[-2] + "/" + body["documentId"].rsplit("/", 1)[-1]: (body, notes)
        for body, notes in items
    }
    body, notes = by_id["policies/salary-bands.html"]
    assert body["taxonomy"] == "HR/salary-bands" and "og_title" not in body
    assert body["permissions"] == [
        {
            "allowAnonymous": False,
            "allowedPermissions": [{"identity": "people-team", "identityType": "Group"}],
            "deniedPermissions": [],
        }
    ]
    assert (
        "# collected, not indexed (no declared field): article_section, canonical_url, category, confidentiality, "
        "description, modifieddate" in notes
    )
    assert "# note: sites.demo.security.rules[0] applied" in notes
    public, _ = by_id["help/faq.html"]
    assert public["permissions"][0]["allowAnonymous"] is True
    pdf, pdf_notes = by_id["files/warranty-terms.pdf"]
    assert pdf["fileExtension"] == ".pdf" and "taxonomy" not in pdf
    assert any("(template taxonomy): key 'category' missing" in n for n in pdf_notes)
    assert "would push 40" in proc.stderr
