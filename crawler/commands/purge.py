"""``pushcrawl purge SITE [--yes] [--dry-run]``: empty a site's source on purpose.

Sends one "delete older than now" for the source (with no queue delay), then forgets the site's fingerprints,
cursor, any unfinished full reindex and the pages stored for revalidation (crawler.revalidate), so the next
run fetches and pushes everything again. Security identities stay: they belong to the provider, which other
sources may share. Asks for the site's name as confirmation on a
terminal; elsewhere (scripts, cron) it needs ``--yes``. Recorded in the run history as a run of mode "purge".
"""

from __future__ import annotations

import argparse
import sys

from crawler import revalidate
from crawler.commands import Subparsers
from crawler.config import Settings, load_settings, require_site
from crawler.errors import RunRefused
from crawler.operations import run_action
from crawler.state import StateStore
from crawler.targets import OpenTarget


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser("purge", help="delete every item of a site's source (asks first)")
    p.add_argument("site", metavar="SITE", help="site name from settings.yaml")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    p.add_argument("--dry-run", action="store_true", help="say what would be deleted; delete nothing")
    p.add_argument("--target", help="target name from settings.yaml (default: the site's or 'target:')")
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("-s", "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings, args.overrides)
    site = args.site
    require_site(settings, site)
    target_name, _ = settings.target_for(site, args.target)
    known = _known_items(settings, f"{target_name}/{site}")
    if args.dry_run:
        print(
            f"pushcrawl: would delete every item of {site}'s source on target {target_name} "
            f"({known} item(s) pushed by pushcrawl)",
            file=sys.stderr,
        )
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise RunRefused(f"purge deletes every item of {site}'s source ({known} known): add --yes to confirm")
        answer = input(
            f"Delete every item of {site}'s source on target {target_name} ({known} known)? "
            f"Type the site name to confirm: "
        )
        if answer.strip() != site:
            print("pushcrawl: purge cancelled, nothing deleted", file=sys.stderr)
            return 1

    def action(target: OpenTarget, state: StateStore, scope: str, ordering_id: int) -> tuple[dict[str, int], str]:
        # queueDelay 0: a purge asked for now should not wait the default 15 minutes
        target.client.delete_older_than(target.source_id, ordering_id, queue_delay_min=0)
        forgotten = state.forget_scope(scope)
        revalidate.forget(state.path.parent, scope)  # stored pages too: the next run fetches every page in full
        return {"deleted": forgotten}, f"purged source {target.source_name}: {forgotten} known item(s) deleted"

    outcome = run_action(settings, site, "purge", args.target, action)
    print(f"pushcrawl: {outcome.message}; the next run pushes everything again", file=sys.stderr)
    return 0


def _known_items(settings: Settings, scope: str) -> int:
    path = settings.resolve_path(settings.state_dir) / "state.sqlite"
    if not path.exists():
        return 0
    state = StateStore(path)
    try:
        return state.item_count(scope)
    finally:
        state.close()
