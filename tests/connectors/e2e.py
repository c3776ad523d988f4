"""Helpers for connector end-to-end tests: the real CLI crawls a fixture CMS into the local Push API.

Crawls run ``pushcrawl crawl`` in a subprocess (the process is what runs a crawl in production); the searches
that read the index back run ``pushcrawl search`` in this process, which saves a Python start per query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import cli_in_process, read_report, run_cli


@dataclass
class Site:
    """A temporary project folder: settings.yaml with a ``local`` target and one site."""

    folder: Path
    site: str
    env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    @classmethod
    def create(
        cls,
        folder: Path,
        site: str,
        connector: str,
        options: dict[str, Any],
        security: str = "content_system",
        **kw: Any,
    ) -> Site:
        settings = {
            "target": "local",
            "targets": {"local": {"kind": "local", "data_dir": "local-index"}},
            "sites": {site: {"connector": connector, "options": options, "security": {"mode": security}}},
        }
        (folder / "settings.yaml").write_text(json.dumps(settings, indent=2), encoding="utf-8")  # YAML ⊃ JSON
        return cls(folder, site, **kw)

    @property
    def settings(self) -> str:
        return str(self.folder / "settings.yaml")

    def crawl(self, *extra: str) -> dict[str, Any]:
        self.runs += 1
        report = self.folder / f"report{self.runs}.json"
        result = run_cli("crawl", self.site, "--settings", self.settings, "--report", str(report), *extra, env=self.env)
        assert result.returncode == 0, result.stderr[-4000:]
        return read_report(report)

    def search(self, query: str, as_user: str | None = None) -> list[dict[str, Any]]:
        args = ["search", query, "--json", "-n", "50", "--settings", self.settings]
        result = cli_in_process(*args, *(["--as", as_user] if as_user else []), env=self.env)
        assert result.returncode == 0, result.stderr[-4000:]
        return list(json.loads(result.stdout)["results"])

    def uris(self, query: str, as_user: str | None = None, base: str = "") -> set[str]:
        return {hit["uri"].removeprefix(base) for hit in self.search(query, as_user)}
