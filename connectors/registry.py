"""Find a connector class by short name (shipped), entry point, or ``"package.module:Class"``.

Shipped connectors are listed here by dotted path so that importing the registry imports no spider: a
connector's dependencies load only when a site uses it (no import-time side effects).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from connectors.base import Connector
from crawler.errors import ConnectorError

#: short name → "module:Class" of the connectors that ship with pushcrawl
SHIPPED: dict[str, str] = {
    "sitemap": "connectors.sitemap.spider:SitemapConnector",
    "wordpress": "connectors.wordpress.spider:WordPressConnector",
    "drupal": "connectors.drupal.spider:DrupalConnector",
    "wagtail": "connectors.wagtail.spider:WagtailConnector",
    "mediawiki": "connectors.mediawiki.spider:MediaWikiConnector",
    "web": "connectors.web.spider:WebConnector",
}

ENTRY_POINT_GROUP = "pushcrawl.connectors"


def available() -> dict[str, str]:
    """Every connector name a site may use, shipped first, then those installed through entry points."""
    names = dict(SHIPPED)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        names.setdefault(ep.name, ep.value)
    return names


def load(ref: str) -> type[Connector]:
    """Return the connector class for a short name or a ``"package.module:Class"`` reference."""
    target = ref if ":" in ref else available().get(ref)
    if target is None:
        known = ", ".join(sorted(available()))
        raise ConnectorError(
            f"unknown connector {ref!r}: use one of {known}, or 'package.module:Class' for your own spider"
        )
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConnectorError(f"connector {ref!r}: cannot import module {module_name!r} ({exc})") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorError(f"connector {ref!r}: {target!r} is not a subclass of connectors.base.Connector")
    return cls
