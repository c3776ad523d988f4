"""The byte cap of a push batch: ``push.batch_max_bytes`` for a remote target, a lower default for the embedded
local target (it applies each batch inside the crawl's process), and the setting wins wherever it is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler import defaults
from crawler.config import Settings
from crawler.context import get_context
from pipelines.push import batch_max_bytes
from tests.helpers.runs import pipeline_crawler

COVEO = {"kind": "coveo", "organization_id": "org", "source_id": "src", "api_key": "${COVEO_API_KEY}"}


def _cap(tmp_path: Path, target: str, targets: dict[str, Any], push: dict[str, Any] | None = None) -> int:
    settings = Settings.model_validate(
        {"target": target, "targets": targets, "push": push or {}, "sites": {"t": {"connector": "sitemap"}}}
    )
    return batch_max_bytes(get_context(pipeline_crawler(tmp_path, settings=settings, target_name=target)))


def test_the_embedded_target_gets_smaller_batches_by_default(tmp_path: Path) -> None:
    local = _cap(tmp_path, "local", {"local": {"kind": "local", "data_dir": str(tmp_path / "d")}})
    assert local == defaults.LOCAL_BATCH_MAX_BYTES < defaults.BATCH_MAX_BYTES


def test_a_remote_target_keeps_the_contract_default(tmp_path: Path) -> None:
    assert _cap(tmp_path, "prod", {"prod": COVEO}) == defaults.BATCH_MAX_BYTES


def test_the_setting_wins_for_every_target(tmp_path: Path) -> None:
    local = {"local": {"kind": "local", "data_dir": str(tmp_path / "d")}}
    assert _cap(tmp_path, "local", local, {"batch_max_bytes": 20_000_000}) == 20_000_000
    assert _cap(tmp_path, "prod", {"prod": COVEO}, {"batch_max_bytes": 1_000_000}) == 1_000_000
