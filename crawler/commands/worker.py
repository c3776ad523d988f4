"""``pushcrawl worker SITE``: join the site's current scaled-out run as one more worker (crawler.distributed).

From any machine that reaches the run's Redis and its target, with the same settings file: no state file is
shared, nothing is swept or committed here. Exit status: 0 the worker's part finished; 1 it stopped early
(its spider did not finish); 2 nothing joined (no current run, settings differ from the coordinator's, Redis
unreachable, unusable target).
"""

from __future__ import annotations

import argparse

from crawler.commands import Subparsers
from crawler.config import load_settings, require_site


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "worker",
        help="join the site's current `crawl --workers` run as a worker (from any machine reaching Redis)",
    )
    p.add_argument("site", metavar="SITE", help="site name from settings.yaml")
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("--target", help="target name from settings.yaml (the coordinator's)")
    p.add_argument("--worker-id", help="this worker's name in the run (default: HOST-PID)")
    p.add_argument(
        "-s",
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, as for crawl (they must leave the effective settings the coordinator's)",
    )
    loud = p.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    loud.add_argument("-v", "--verbose", action="store_true", help="show the whole log live")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crawler.distributed.worker import run_worker

    settings = load_settings(args.settings, args.overrides)
    require_site(settings, args.site)
    return run_worker(
        settings,
        args.site,
        target_override=args.target,
        worker_id=args.worker_id,
        log_level=args.log_level,
        verbosity="quiet" if args.quiet else "verbose" if args.verbose else "normal",
    )
