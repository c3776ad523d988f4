"""The connector scaffold behind ``pushcrawl new-connector NAME``: template files and how they are filled in.

Templates are plain files named ``*.tmpl`` in this package (shipped as package data; the suffix keeps pytest,
ruff and mypy away from them). Placeholders are ``{{package}}`` (the NAME, a Python package), ``{{Class}}``
(the spider class), ``{{ENV}}`` (prefix of the environment variables) and ``{{title}}``: plain replacement,
so YAML's ``${VAR}`` and Python's braces need no escaping.
"""

from __future__ import annotations

import keyword
import re
import sys
from importlib import resources
from pathlib import Path

from crawler.errors import PushcrawlError

#: template → path in the new project (``{pkg}`` is the package folder)
FILES: dict[str, str] = {
    "init.py.tmpl": "{pkg}/__init__.py",
    "options.py.tmpl": "{pkg}/options.py",
    "client.py.tmpl": "{pkg}/client.py",
    "mapping.py.tmpl": "{pkg}/mapping.py",
    "spider.py.tmpl": "{pkg}/spider.py",
    "fixture.py.tmpl": "{pkg}/fixture.py",
    "pages.json.tmpl": "{pkg}/sample_data/pages.json",
    "test_connector.py.tmpl": "tests/test_{pkg}.py",
    "settings.yaml.tmpl": "settings.yaml",
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
}

#: names a connector package may not take: they would shadow pushcrawl itself or what it imports
RESERVED = frozenset({"crawler", "connectors", "pipelines", "tests", "scrapy", "twisted", "pydantic", "requests"})


class ScaffoldError(PushcrawlError):
    """The scaffold cannot be created (bad name, existing folder); the message says what to do."""


def validate_name(name: str) -> None:
    if not name.isidentifier() or not name.isascii():
        suggestion = re.sub(r"\W+", "_", name.strip().lower()).strip("_")
        hint = f" such as {suggestion!r}" if suggestion and suggestion.isidentifier() else ""
        raise ScaffoldError(
            f"connector name {name!r} is not a Python identifier: use letters, digits and underscores, "
            f"not starting with a digit{hint}"
        )
    if keyword.iskeyword(name) or name != name.lower():
        raise ScaffoldError(f"connector name {name!r}: use a lower-case name that is not a Python keyword")
    if name in RESERVED or name in sys.stdlib_module_names:
        raise ScaffoldError(f"connector name {name!r} would shadow the module {name!r}: pick another name")


def names(name: str) -> dict[str, str]:
    camel = "".join(part.capitalize() for part in name.split("_") if part)
    return {
        "{{package}}": name,
        "{{Class}}": f"{camel}Connector",
        "{{ENV}}": name.upper(),
        "{{title}}": name.replace("_", " ").title(),
    }


def render(template: str, values: dict[str, str]) -> str:
    text = resources.files(__name__).joinpath(template).read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


def create(name: str, parent: Path) -> Path:
    """Write the project folder ``parent/name``; refuses to touch an existing path."""
    validate_name(name)
    root = parent / name
    if root.exists():
        raise ScaffoldError(f"{root} already exists: nothing was written (choose another NAME or --path)")
    if not parent.is_dir():
        raise ScaffoldError(f"--path {parent} is not a folder")
    values = names(name)
    rendered = {FILES[t].format(pkg=name): render(t, values) for t in FILES}  # render all before writing any
    for rel, text in rendered.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
