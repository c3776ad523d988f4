"""Item pipelines shared by every connector, each a small class with one job.

Order (gaps left for users' own pipelines): extract 100 → fields 200 → permissions 300 → changes 400 →
push 900. Each pipeline passes ``Deletion`` and ``Identity`` items through untouched unless they are its job.
Every drop goes through ``drop()`` so it is counted under ``pushcrawl/dropped/<reason>`` and reported.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

ORDER = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.fields.FieldsPipeline": 200,
    "pipelines.permissions.PermissionsPipeline": 300,
    "pipelines.changes.ChangesPipeline": 400,
    "pipelines.push.PushPipeline": 900,
}


def drop(crawler: Crawler, reason: str, message: str, log_level: str = "WARNING") -> DropItem:
    """Count a drop under its reason and return the DropItem to raise."""
    crawler.stats.inc_value(f"pushcrawl/dropped/{reason}")
    return DropItem(f"{reason}: {message}", log_level=log_level)
