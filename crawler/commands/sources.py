"""``pushcrawl sources create NAME [--security everyone|specific|content_system] [--target NAME]``.

Creates a Push source through the Platform API (and, for ``content_system`` security, a security identity
provider attached to it, named by the target's ``security_provider``, else ``NAME-identities``), then prints
the source id and the URL items are pushed to.
On a ``local`` target the embedded server is started on the target's data dir for the duration.
"""

from __future__ import annotations

import argparse
import re
import sys

from crawler import identities
from crawler.commands import Subparsers
from crawler.config import load_settings
from crawler.errors import SettingsError, TargetError
from crawler.targets import VISIBILITY, open_admin

#: Coveo source names: letters, digits, hyphens and underscores
SOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser("sources", help="manage Push sources of a target")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    c = actions.add_parser("create", help="create a Push source (and its identity provider for content_system)")
    c.add_argument("name", metavar="NAME", help="source name: letters, digits, '-' and '_'")
    c.add_argument(
        "--security",
        choices=sorted(VISIBILITY),
        default="everyone",
        help="content security of the source (default: everyone)",
    )
    c.add_argument("--target", help="target name from settings.yaml (default: 'target:')")
    c.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    c.set_defaults(func=create)


def create(args: argparse.Namespace) -> int:
    if not SOURCE_NAME.fullmatch(args.name):
        raise SettingsError(
            "command line",
            "NAME",
            f"a source name made of letters, digits, '-' and '_' only (got {args.name!r})",
        )
    settings = load_settings(args.settings)
    admin = open_admin(settings, args.target)
    try:
        if any(s.get("name") == args.name for s in admin.client.list_sources()):
            raise TargetError(f"a source named {args.name!r} already exists in target {admin.name} ({admin.location})")
        source = admin.client.create_source(args.name, VISIBILITY[args.security])
        source_id = str(source["id"])
        out = sys.stdout
        out.write(f"created source {args.name} in target {admin.name} ({admin.location})\n")
        out.write(f"  source id: {source_id}\n")
        out.write(f"  push items to: {admin.client.push_root}/sources/{source_id}/documents?documentId=...\n")
        if args.security == "content_system":
            provider = identities.provider_id(settings, settings.target_for(None, args.target)[1], args.name)
            admin.client.put_security_provider(provider, [source_id])
            out.write(f"  security identity provider: {provider}\n")
            out.write(f"  push identities to: {admin.client.push_root}/providers/{provider}/permissions\n")
        if admin.is_local:
            out.write(
                "  (the embedded server's port above was for this command; `pushcrawl serve --data "
                f"{admin.location}` serves the same data on http://127.0.0.1:8090)\n"
            )
    finally:
        admin.close()
    return 0
