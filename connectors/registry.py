"""Find a connector class by short name (shipped), entry point, or ``"package.module:Class"``.

Three ways a site's ``connector:`` names its spider:

* a shipped short name (``sitemap``), listed here by dotted path so that importing the registry imports no
  spider: a connector's dependencies load only when a site uses it (no import-time side effects);
* the name of an entry point in the ``pushcrawl.connectors`` group, which an installed package declares in
  its ``pyproject.toml`` (``[project.entry-points."pushcrawl.connectors"] intranet = "intranet.spider:X"``);
* ``"package.module:Class"``: any importable module. The settings file's folder is searched as well, so a
  connector package sitting next to ``settings.yaml`` (what ``pushcrawl new-connector`` creates) runs
  without being installed.

Shipped names win over entry points of the same name (a package cannot silently replace a shipped
connector); the clash is reported by ``pushcrawl check``.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

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


def installed() -> list[EntryPoint]:
    """Entry points of the ``pushcrawl.connectors`` group, read from sys.path at call time."""
    return list(entry_points(group=ENTRY_POINT_GROUP))


def available() -> dict[str, str]:
    """Every connector name a site may use, shipped first, then those installed through entry points."""
    names = dict(SHIPPED)
    for ep in installed():
        names.setdefault(ep.name, ep.value)
    return names


def shadowed() -> list[str]:
    """Entry-point names that a shipped connector hides (the shipped one is used)."""
    return sorted({ep.name for ep in installed() if ep.name in SHIPPED and ep.value != SHIPPED[ep.name]})


def _import(module_name: str, ref: str, base_dir: Path | None) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only retry from the settings folder when the *top* package is missing, not a dependency inside it.
        top = module_name.partition(".")[0]
        if base_dir is None or exc.name != top or not (base_dir / top).exists():
            raise ConnectorError(f"connector {ref!r}: cannot import module {module_name!r} ({exc})") from exc
    folder = str(base_dir.resolve())
    if folder not in sys.path:
        sys.path.append(folder)  # appended: never shadows an installed package of the same name
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ConnectorError(f"connector {ref!r}: cannot import module {module_name!r} ({exc})") from exc


def load(ref: str, base_dir: Path | None = None) -> type[Connector[Any]]:  # Any: options type known at run time
    """Return the connector class for a short name or a ``"package.module:Class"`` reference.

    ``base_dir`` (the settings file's folder) is searched for the top package when it is not importable.
    """
    target = ref if ":" in ref else available().get(ref)
    if target is None:
        known = ", ".join(sorted(available()))
        hint = ""
        if "." in ref:
            head, _, tail = ref.rpartition(".")
            hint = f" (did you mean '{head}:{tail}'? a colon separates the module from the class)"
        raise ConnectorError(
            f"unknown connector {ref!r}{hint}: use one of {known}, or 'package.module:Class' for your own spider"
        )
    module_name, _, class_name = target.partition(":")
    class_name = class_name.split("[", 1)[0].strip()  # an entry point value may carry [extras]
    if not module_name or not class_name:
        raise ConnectorError(f"connector {ref!r}: expected 'package.module:Class'")
    module = _import(module_name.strip(), ref, base_dir)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ConnectorError(f"connector {ref!r}: module {module_name!r} has no attribute {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorError(f"connector {ref!r}: {target!r} is not a subclass of connectors.base.Connector")
    if errors := cls.contract_errors():
        raise ConnectorError(
            f"connector {ref!r}: {class_name} {'; '.join(errors)} (a connector must say how it proves the content"
            " system is reachable and how it crawls: see docs/writing-a-connector.md)"
        )
    return cls
