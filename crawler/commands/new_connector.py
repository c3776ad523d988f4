"""``pushcrawl new-connector NAME [--path DIR]``: scaffold a connector project that crawls its fixture at once.

Creates ``DIR/NAME/`` with the connector package (spider, client, mapping, Options), a fixture server and
sample data, tests that pass as generated, a ``settings.yaml`` pointing at the fixture, a ``pyproject.toml``
declaring the ``pushcrawl.connectors`` entry point, and a README with sections to fill.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crawler.commands import Subparsers
from crawler.scaffold import create, names


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "new-connector", help="scaffold a connector (spider, client, mapping, fixture CMS, tests)"
    )
    p.add_argument("name", metavar="NAME", help="Python package name of the connector, e.g. intranet")
    p.add_argument("--path", type=Path, default=Path("."), help="create NAME/ inside this folder (default: .)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = create(args.name, args.path)
    pkg = args.name
    cls = names(pkg)["{{Class}}"]
    print(f"created {root}/ — connector {pkg}.spider:{cls}")
    print(
        "\nnext, from that folder:\n"
        f"  cd {root}\n"
        f"  python -m {pkg}.fixture --port 8765 &   # the fixture CMS\n"
        f"  pushcrawl check {pkg}\n"
        f"  pushcrawl preview {pkg} --limit 3\n"
        f"  pushcrawl crawl {pkg}\n"
        "  python -m pytest\n"
        "\nthen edit mapping.py, client.py and spider.py for your CMS, and fill in README.md."
    )
    return 0
