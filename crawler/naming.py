"""What a site's data is called on its target: the source's name and its security identity provider's id.

Both the target opener (crawler.targets) and the identity sweep (crawler.identities) need these names, and
neither needs the other: keeping them here is what lets the two modules import in either order.
"""

from __future__ import annotations

from crawler.config import CoveoTarget, LocalTarget, Settings

Target = CoveoTarget | LocalTarget


def source_name_for(settings: Settings, site: str, target: Target) -> str:
    """The site's ``source``, else the target's ``source``, else the site's name."""
    cfg = settings.sites[site]
    return cfg.source or target.source or site


def provider_id(settings: Settings, target: Target, source_name: str) -> str:
    """The target's ``security_provider``, else ``<source name>-identities`` (what ``sources create`` makes)."""
    if isinstance(target, CoveoTarget) and target.security_provider:
        return target.security_provider
    return f"{source_name}-identities"


def site_provider(settings: Settings, site: str) -> tuple[str, str]:
    """(target name, provider id) a site's identities go to."""
    target_name, target = settings.target_for(site)
    return target_name, provider_id(settings, target, source_name_for(settings, site, target))
