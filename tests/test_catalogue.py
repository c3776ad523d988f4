"""Meta-test: every shipped connector has tests, sample data and a README section (STYLE.md item 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connectors.registry import SHIPPED

ROOT = Path(__file__).resolve().parent.parent


def readme_connector_sections() -> set[str]:
    """``### name`` headings inside the README's ``## Connectors`` section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8") if (ROOT / "README.md").is_file() else ""
    match = re.search(r"^## Connectors\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    body = match.group(1) if match else ""
    return {m.strip().strip("`") for m in re.findall(r"^### (.+)$", body, re.MULTILINE)}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_connector_has_tests(name: str) -> None:
    found = list((ROOT / "tests").rglob(f"test_{name}*.py"))
    assert found, f"connector {name!r} has no tests: add tests/connectors/test_{name}*.py"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_connector_has_sample_data(name: str) -> None:
    folder = ROOT / "tests" / "sample_data" / name
    assert folder.is_dir() and any(folder.iterdir()), f"connector {name!r} has no tests/sample_data/{name}/"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_connector_has_readme_section(name: str) -> None:
    assert name in readme_connector_sections(), f"README.md has no '### {name}' under '## Connectors'"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_connector_module_is_importable_and_named(name: str) -> None:
    from connectors.registry import load

    cls = load(name)
    assert cls.name == name, f"{SHIPPED[name]} has name {cls.name!r}"
