"""A Scrapy crawler bound to a typed ``Run`` for pipeline tests: pipelines built on it reach the run the way
they do in a crawl (``crawler.context.get_context``), with a real state store and ledger in ``tmp_path``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from crawler.config import Settings, SiteConfig
from crawler.context import Run, bind
from crawler.ledger import SqliteLedger
from crawler.state import StateStore


def pipeline_crawler(
    tmp_path: Path,
    site: SiteConfig | None = None,
    *,
    settings: Settings | None = None,
    site_name: str = "t",
    mode: str = "full",
    dry_run: bool = True,
    run_id: int = 1,
    state_file: str = "state.sqlite",
    **run: Any,
) -> Crawler:
    """``settings`` wins over ``site`` (a one-site Settings is made from ``site`` otherwise); ``run`` overrides
    any other Run field (``ledger``, ``dry_run_out``…)."""
    if settings is None:
        settings = Settings(sites={site_name: site or SiteConfig(connector="sitemap")})
    path = tmp_path / state_file
    fields: dict[str, Any] = {
        "settings": settings,
        "site_name": site_name,
        "site": settings.sites[site_name],
        "target_name": "local",
        "scope": f"local/{site_name}",
        "mode": mode,
        "dry_run": dry_run,
        "run_id": run_id,
        "ordering_id": run_id,
        "state": StateStore(path),
        **run,
    }
    fields.setdefault("ledger", SqliteLedger(path, run_id))
    crawler = get_crawler(settings_dict=bind(Run(**fields)))
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return crawler
