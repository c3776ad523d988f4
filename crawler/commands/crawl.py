"""``pushcrawl crawl SITE [SITE...] | --all``: run sites through their connectors into the target.

One site runs in this process; several sites run one after another, each in a child process, because
Scrapy's reactor cannot be restarted inside a process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from crawler.config import load_settings
from crawler.errors import RunRefused, SettingsError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("crawl", help="crawl sites and push what changed")
    p.add_argument("sites", nargs="*", metavar="SITE", help="site names from settings.yaml")
    p.add_argument("--all", action="store_true", help="every site in settings.yaml")
    p.add_argument("--full", action="store_true", help="full reindex: push everything, sweep what was not seen")
    p.add_argument("--dry-run", action="store_true", help="print what would be pushed and deleted; send nothing")
    p.add_argument("--target", help="target name from settings.yaml (default: the site's or 'target:')")
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("--report", type=Path, help="write the JSON run report to this file")
    p.add_argument("--allow-mass-deletion", action="store_true", help="allow deleting more than max_deletions")
    p.add_argument(
        "-s",
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. -s push.batch_max_items=500 (repeatable)",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings, args.overrides)
    sites = list(settings.sites) if args.all else args.sites
    if not sites:
        raise SettingsError("command line", "SITE", "one or more site names, or --all")
    for site in sites:
        if site not in settings.sites:
            known = ", ".join(sorted(settings.sites)) or "none"
            raise SettingsError(
                str(settings.source_file), f"sites.{site}", f"a site defined in the file (known: {known})"
            )
    if len(sites) == 1:
        return run_one(args, settings, sites[0], args.report)
    worst = 0
    for site in sites:
        argv = [
            sys.executable,
            "-m",
            "crawler.cli",
            "crawl",
            site,
            "--settings",
            str(settings.source_file),
            "--log-level",
            args.log_level,
        ]
        for flag in ("full", "dry_run", "allow_mass_deletion"):
            if getattr(args, flag):
                argv.append("--" + flag.replace("_", "-"))
        if args.target:
            argv += ["--target", args.target]
        for override in args.overrides:
            argv += ["-s", override]
        if args.report:
            argv += ["--report", str(args.report.with_name(f"{args.report.stem}-{site}{args.report.suffix}"))]
        worst = max(worst, subprocess.call(argv))
    return worst


def run_one(args: argparse.Namespace, settings: Any, site: str, report_path: Path | None) -> int:
    from crawler.report import print_summary
    from crawler.runner import run_site

    report = run_site(
        settings,
        site,
        full=args.full,
        dry_run=args.dry_run,
        target_override=args.target,
        allow_mass_deletion=args.allow_mass_deletion,
        log_level=args.log_level,
        dry_run_out=sys.stdout,
    )
    print_summary(report, sys.stderr)
    if report_path is not None:
        report.write(report_path)
    if report.ok:
        return 0
    return RunRefused.exit_code if report.extra.get("refused") else 1
