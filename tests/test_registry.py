"""Connector lookup: shipped names, ``package.module:Class`` (importable or next to settings.yaml), entry points.

Entry points are tested for real: a tiny distribution (a package plus its ``.dist-info`` with
``entry_points.txt``) is written to a temporary folder put on ``sys.path``, which is exactly what
``importlib.metadata`` scans for an installed package.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from connectors import registry
from connectors.sitemap.spider import SitemapConnector
from crawler.errors import ConnectorError
from tests.fixtures import zygote

SPIDER = """
from connectors.base import Connector, ConnectorOptions

class Options(ConnectorOptions):
    greeting: str = "hello"

class {cls}(Connector[Options]):
    name = "{name}"
    Options = Options

    @classmethod
    def ping(cls, options):
        pass

    async def start_full(self):
        yield None

class NotAConnector:
    pass

class NoPing(Connector[Options]):
    name = "noping"

class Undeclared(Connector[Options]):
    name = "undeclared"
    supports_incremental = True

    @classmethod
    def ping(cls, options):
        pass

    async def start_full(self):
        yield None
"""


def write_package(root: Path, package: str, cls: str = "MyConnector", name: str = "mine") -> None:
    pkg = root / package
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "spider.py").write_text(SPIDER.format(cls=cls, name=name))


def write_dist(root: Path, dist: str, entries: dict[str, str]) -> None:
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n{lines}\n")


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


def test_shipped_short_name() -> None:
    assert registry.load("sitemap") is SitemapConnector


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ConnectorError, match=r"unknown connector 'nope'.*sitemap"):
        registry.load("nope")


def test_dotted_class_without_colon_gets_a_hint() -> None:
    with pytest.raises(ConnectorError, match=r"did you mean 'connectors.sitemap.spider:SitemapConnector'"):
        registry.load("connectors.sitemap.spider.SitemapConnector")


def test_module_class_reference(on_path: Path) -> None:
    write_package(on_path, "regpkg_a")
    cls = registry.load("regpkg_a.spider:MyConnector")
    assert cls.__name__ == "MyConnector" and cls.Options().greeting == "hello"  # type: ignore[attr-defined]


def test_reference_errors_say_what_is_wrong(on_path: Path) -> None:
    write_package(on_path, "regpkg_b")
    with pytest.raises(ConnectorError, match=r"cannot import module 'regpkg_missing.spider'"):
        registry.load("regpkg_missing.spider:X")
    with pytest.raises(ConnectorError, match="has no attribute 'Missing'"):
        registry.load("regpkg_b.spider:Missing")
    with pytest.raises(ConnectorError, match=r"not a subclass of connectors\.base\.Connector"):
        registry.load("regpkg_b.spider:NotAConnector")
    # ping and start_full are abstract: a connector must say how it proves the content system is reachable
    # and how it crawls
    with pytest.raises(ConnectorError, match="NoPing does not implement ping; does not implement start_full"):
        registry.load("regpkg_b.spider:NoPing")
    # a capability flag without its method would never crawl incrementally: refused, named
    with pytest.raises(ConnectorError, match="declares supports_incremental but does not implement start_incremental"):
        registry.load("regpkg_b.spider:Undeclared")


def test_package_next_to_settings_is_found(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_package(project, "regpkg_local")
    with pytest.raises(ConnectorError, match="cannot import"):
        registry.load("regpkg_local.spider:MyConnector")
    try:
        assert registry.load("regpkg_local.spider:MyConnector", base_dir=project).__name__ == "MyConnector"
    finally:
        sys.path.remove(str(project.resolve()))


def test_entry_point_name(on_path: Path) -> None:
    write_package(on_path, "regpkg_ep", cls="EpConnector", name="intranet")
    write_dist(on_path, "regpkg-ep", {"intranet": "regpkg_ep.spider:EpConnector"})
    assert registry.available()["intranet"] == "regpkg_ep.spider:EpConnector"
    assert registry.load("intranet").__name__ == "EpConnector"


def test_entry_point_cannot_replace_a_shipped_connector(on_path: Path) -> None:
    write_package(on_path, "regpkg_shadow")
    write_dist(on_path, "regpkg-shadow", {"sitemap": "regpkg_shadow.spider:MyConnector"})
    assert registry.load("sitemap") is SitemapConnector
    assert registry.shadowed() == ["sitemap"]


def test_entry_point_connector_crawls_from_the_cli(tmp_path: Path) -> None:
    """A site names an installed entry point; a real `pushcrawl crawl --dry-run` runs it in a subprocess."""
    site = tmp_path / "site-packages"
    site.mkdir()
    pkg = site / "regpkg_cli"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "spider.py").write_text(
        textwrap.dedent(
            """
            from connectors.base import Connector
            from crawler.model import Document

            class One(Connector):
                name = "one"

                @classmethod
                def ping(cls, options):
                    pass

                async def start_full(self):
                    for item in [Document(document_id="https://cms.test/1", title="First", text="body one")]:
                        yield item
            """
        )
    )
    write_dist(site, "regpkg-cli", {"onedoc": "regpkg_cli.spider:One"})
    settings = tmp_path / "settings.yaml"
    settings.write_text("sites:\n  s:\n    connector: onedoc\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(site)}
    proc = zygote.run(["crawl", "s", "--dry-run", "--settings", str(settings)], cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"documentId": "https://cms.test/1"' in proc.stdout
    assert "would push 1" in proc.stderr
