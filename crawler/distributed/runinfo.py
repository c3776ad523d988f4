"""What a worker needs to join a run (published by the coordinator), and the settings both must agree on.

The coordinator writes ``run:info`` (JSON) and then ``current`` = the run id; a worker reads them, and refuses
to join when its effective settings for the site differ from the coordinator's. Each settings section is
compared by a SHA-256 of its JSON, so the refusal names the section (``sites.docs.options``) without either
side sending the values (they may hold URLs with credentials). Paths local to a machine (``state_dir``, the
settings file) and ``distributed`` itself (a machine may reach Redis by another name) are not compared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from crawler.config import Settings
from crawler.distributed.config import DistributedConfig
from crawler.errors import PushcrawlError, SettingsError

#: site sections every worker must share with the coordinator (what is fetched, mapped, secured and pushed)
SITE_SECTIONS = ("connector", "options", "security", "fields", "extract", "scrapy", "source", "max_deletions")


class NoCurrentRun(PushcrawlError):
    """`pushcrawl worker` for a site no coordinator is running."""


class SettingsDiffer(PushcrawlError):
    """A worker's settings are not the coordinator's."""


@dataclass
class RunInfo:
    run_id: int
    ordering_id: int
    mode: str
    sweep_from: int
    since: str | None
    source_id: str
    provider_id: str
    target_name: str
    coordinator: str
    settings: dict[str, str] = field(default_factory=dict)  # section → digest

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, raw: str) -> RunInfo:
        return cls(**json.loads(raw))


def _digest(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def settings_digest(settings: Settings, site: str, target_name: str) -> dict[str, str]:
    cfg = settings.sites[site].model_dump(mode="json")
    out = {f"sites.{site}.{k}": _digest(cfg.get(k)) for k in SITE_SECTIONS}
    out["push"] = _digest(settings.push.model_dump(mode="json"))
    out["field_defaults"] = _digest(settings.field_defaults.model_dump(mode="json"))
    target = settings.targets[target_name].model_dump(mode="json", exclude={"api_key"})
    out[f"targets.{target_name}"] = _digest(target)
    return out


def differences(coordinator: dict[str, str], mine: dict[str, str]) -> list[str]:
    return sorted(k for k in set(coordinator) | set(mine) if coordinator.get(k) != mine.get(k))


def check_same(info: RunInfo, settings: Settings, site: str) -> None:
    diff = differences(info.settings, settings_digest(settings, site, info.target_name))
    if diff:
        raise SettingsDiffer(
            f"this worker's settings differ from the coordinator's ({info.coordinator}) in: {', '.join(diff)}; "
            "every worker of a run must crawl, map and push alike — use the same settings file"
        )


def distributed_config(settings: Settings, site: str) -> DistributedConfig:
    cfg = settings.sites[site].distributed or settings.distributed
    if cfg is None:
        raise SettingsError(
            str(settings.source_file),
            f"sites.{site}.distributed",
            "a 'distributed: {redis_url: redis://host:6379/0}' block (globally or for the site) to run workers",
        )
    return cfg
