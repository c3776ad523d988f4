"""``pushcrawl schedule``: run every site that has a ``schedule:`` on its cron, until SIGTERM/Ctrl-C.

The engine is crawler.scheduler; this module reads the settings, picks the sites and wires the signals.
"""

from __future__ import annotations

import argparse
import signal

from crawler import defaults
from crawler.commands import Subparsers
from crawler.config import load_settings
from crawler.errors import SettingsError


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "schedule", help="run sites on their cron 'schedule:' (each run in its own process), until stopped"
    )
    p.add_argument("sites", nargs="*", metavar="SITE", help="only these sites (default: every site with a schedule)")
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument(
        "--on-stop",
        choices=["terminate", "wait"],
        default="terminate",
        help="on SIGTERM/Ctrl-C: stop running crawls gracefully (default) or wait for them to finish",
    )
    p.add_argument(
        "--grace", type=float, default=defaults.SCHEDULE_GRACE_S, help="seconds a terminated crawl gets before SIGKILL"
    )
    p.add_argument("--target", help="target name passed to every run")
    p.add_argument(
        "-s",
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting for every run: a settings.yaml key or a Scrapy setting name (repeatable)",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crawler.cli import setup_logging
    from crawler.scheduler import Scheduler

    setup_logging(args.log_level)
    settings = load_settings(args.settings, args.overrides)
    file = str(settings.source_file)
    for site in args.sites:
        if site not in settings.sites:
            raise SettingsError(
                file, f"sites.{site}", f"a site defined in the file (known: {', '.join(settings.sites)})"
            )
    chosen = args.sites or list(settings.sites)
    schedules = {s: settings.sites[s].schedule for s in chosen if settings.sites[s].schedule}
    missing = [s for s in args.sites if s not in schedules]
    if missing:
        raise SettingsError(file, f"sites.{missing[0]}.schedule", "a cron expression such as '*/30 * * * *'")
    if not schedules:
        raise SettingsError(file, "sites.*.schedule", "at least one site with a cron 'schedule:' to run")
    extra = ["--log-level", args.log_level] + (["--target", args.target] if args.target else [])
    for override in args.overrides:
        extra += ["-s", override]
    scheduler = Scheduler(
        settings.source_file,
        {k: v for k, v in schedules.items() if v},
        settings.resolve_path(settings.state_dir) / "logs",
        on_stop=args.on_stop,
        grace_s=args.grace,
        extra_args=extra,
    )
    signal.signal(signal.SIGTERM, scheduler.request_stop)
    signal.signal(signal.SIGINT, scheduler.request_stop)
    return scheduler.run()
