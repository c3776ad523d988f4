"""``pushcrawl crawl SITE [SITE...] | --all``: run sites through their connectors into the target.

One site runs in this process; several sites run one after another, each in a child process, because
Scrapy's reactor cannot be restarted inside a process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from crawler import defaults
from crawler.commands import Subparsers
from crawler.config import Settings, load_settings
from crawler.errors import RunRefused, SettingsError
from crawler.report import RunReport

#: every exit status of ``pushcrawl crawl`` (README's "Exit status" lists the same)
EXIT_CODES = """exit status:
  0    the run finished (every site, with several)
  1    a run failed: errors counted, a listing incomplete, the push stopped (the summary says why)
  2    nothing ran: invalid settings or command line, unknown site, connector or target unusable
  3    refused by a data-safety rule (a deletion set above max_deletions): see --dry-run, --allow-mass-deletion
  4    --wait-indexed: the index rejected items, or some were still pending at the timeout (the summary names them)
  75   another run of the same site holds its lock (try again later)
  130  interrupted (Ctrl-C or SIGTERM): nothing swept, the next run resumes"""


#: --wait-indexed: the run finished but the index rejected items or had not settled by the timeout
NOT_INDEXED_EXIT = 4


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "crawl",
        help="crawl sites and push what changed",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sites", nargs="*", metavar="SITE", help="site names from settings.yaml")
    p.add_argument("--all", action="store_true", help="every site in settings.yaml")
    p.add_argument("--full", action="store_true", help="full reindex: push everything, sweep what was not seen")
    p.add_argument("--dry-run", action="store_true", help="print what would be pushed and deleted; send nothing")
    p.add_argument("--target", help="target name from settings.yaml (default: the site's or 'target:')")
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("--report", type=Path, help="write the JSON run report to this file ('-': standard output)")
    p.add_argument("--json", action="store_true", help="print the JSON run report on standard output")
    loud = p.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", help="print the closing summary only")
    loud.add_argument(
        "-v", "--verbose", action="store_true", help="show the whole log live (it is always in the run's log file)"
    )
    p.add_argument(
        "--wait-indexed",
        nargs="?",
        type=float,
        const=defaults.WAIT_INDEXED_S,
        default=None,
        metavar="TIMEOUT",
        help="after pushing, wait until the index applied or refused every item (default timeout"
        f" {defaults.WAIT_INDEXED_S:g}s); exit 4 if any was rejected or is still pending",
    )
    p.add_argument("--allow-mass-deletion", action="store_true", help="allow deleting more than max_deletions")
    p.add_argument(
        "-s",
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting: a settings.yaml key (-s push.batch_max_items=500) or a Scrapy setting for the"
        " sites run (-s DOWNLOAD_DELAY=1); repeatable",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="scale out: coordinate this run and start N local worker processes sharing a Redis frontier"
        " (settings: distributed.redis_url); more may join with `pushcrawl worker SITE`",
    )
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
        for flag in ("full", "dry_run", "allow_mass_deletion", "json", "quiet", "verbose"):
            if getattr(args, flag):
                argv.append("--" + flag.replace("_", "-"))
        if args.target:
            argv += ["--target", args.target]
        if args.workers:
            argv += ["--workers", str(args.workers)]
        if args.wait_indexed is not None:
            argv += [f"--wait-indexed={args.wait_indexed:g}"]
        for override in args.overrides:
            argv += ["-s", override]
        if args.report and str(args.report) == "-":
            argv += ["--report", "-"]
        elif args.report:
            argv += ["--report", str(args.report.with_name(f"{args.report.stem}-{site}{args.report.suffix}"))]
        worst = max(worst, subprocess.call(argv))
    return worst


def run_one(args: argparse.Namespace, settings: Settings, site: str, report_path: Path | None) -> int:
    from crawler import alerts
    from crawler.alerts import previous_documents
    from crawler.report import print_summary
    from crawler.runner import run_site

    to_stdout = args.json or (report_path is not None and str(report_path) == "-")
    if getattr(args, "workers", 0):
        report = _coordinate(args, settings, site)
    else:
        report = run_site(
            settings,
            site,
            full=args.full,
            dry_run=args.dry_run,
            target_override=args.target,
            allow_mass_deletion=args.allow_mass_deletion,
            log_level=args.log_level,
            # standard output is the report's when asked for: the dry-run bodies move to stderr
            dry_run_out=sys.stderr if to_stdout else sys.stdout,
            verbosity="quiet" if args.quiet else "verbose" if args.verbose else "normal",
            wait_indexed=args.wait_indexed,
        )
    if args.dry_run and report.ok and not report.extra.get("would_push") and not report.deleted_ids:
        # an empty stdout would read as "broken"; say why nothing would be sent
        unchanged = report.counts.get("unchanged", 0)
        hint = "" if args.full else "; `--full --dry-run` prints every item"
        print(
            f"# nothing would be pushed or deleted: {unchanged} item(s) unchanged since the last run{hint}",
            file=sys.stderr if to_stdout else sys.stdout,
        )
    print_summary(report, sys.stderr)
    if settings.alerts is not None and not args.dry_run:  # scheduled runs: tell someone (crawler.alerts)
        target_name, _ = settings.target_for(site, args.target)
        before = previous_documents(
            settings.resolve_path(settings.state_dir) / "state.sqlite",
            f"{target_name}/{site}",
            report.mode,
            report.extra.get("run_id"),
        )
        alerts.after_run(settings.alerts, report, before)
    if report_path is not None and str(report_path) != "-":
        report.write(report_path)
    if to_stdout:
        # one compact object per line: several sites give JSON Lines
        print(json.dumps(report.to_json(), sort_keys=True), flush=True)
    if report.ok:
        return NOT_INDEXED_EXIT if report.extra.get("not_indexed") else 0
    return RunRefused.exit_code if report.extra.get("refused") else 1


def _coordinate(args: argparse.Namespace, settings: Settings, site: str) -> RunReport:
    """``--workers N``: the run is coordinated through Redis (crawler.distributed.coordinator)."""
    from crawler.distributed.coordinator import Coordinator, refuse_dry_run

    if args.workers < 0:
        raise SettingsError("command line", "--workers", f"a number of workers >= 1 (got {args.workers})")
    if args.dry_run:
        refuse_dry_run()
    coordinator = Coordinator(
        settings,
        site,
        args.workers,
        target_override=args.target,
        overrides=args.overrides,
        log_level=args.log_level,
        verbosity="quiet" if args.quiet else "verbose" if args.verbose else "normal",
    )
    return coordinator.run(full=args.full, allow_mass_deletion=args.allow_mass_deletion)
