"""``pushcrawl delete SITE DOCUMENT_ID [--children]``: remove one item from a site's source now.

For an item that must leave the index before the next run notices it (a page published by mistake). The item's
fingerprint is forgotten once the Push API accepted the delete, so if the CMS still has the item, the next run
pushes it again — delete it in the CMS too. Recorded in the run history as a run of mode "delete".
"""

from __future__ import annotations

import argparse
import sys

from crawler.commands import Subparsers
from crawler.config import load_settings, require_site
from crawler.operations import run_action
from crawler.state import StateStore
from crawler.targets import OpenTarget


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "delete", help="delete one item (optionally with its children) from a site's source now"
    )
    p.add_argument("site", metavar="SITE", help="site name from settings.yaml")
    p.add_argument("document_id", metavar="DOCUMENT_ID", help="the item's documentId (its URI)")
    p.add_argument("--children", action="store_true", help="also delete every item whose id starts with DOCUMENT_ID/")
    p.add_argument("--target", help="target name from settings.yaml (default: the site's or 'target:')")
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("-s", "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings, args.overrides)
    require_site(settings, args.site)

    def action(target: OpenTarget, state: StateStore, scope: str, ordering_id: int) -> tuple[dict[str, int], str]:
        known = state.fingerprint(scope, args.document_id) is not None
        target.client.delete_document(target.source_id, args.document_id, ordering_id, children=args.children)
        if args.children:
            state.forget_children(scope, args.document_id)
        else:
            state.forget_items(scope, [args.document_id])
        what = f"{args.document_id}" + (" and its children" if args.children else "")
        note = "" if known else " (pushcrawl had not pushed this id: the delete was sent anyway)"
        return {"deleted": 1}, f"deleted {what} from source {target.source_name}{note}"

    outcome = run_action(settings, args.site, "delete", args.target, action)
    print(f"pushcrawl: {outcome.message}", file=sys.stderr)
    return 0
