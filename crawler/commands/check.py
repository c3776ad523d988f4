"""``pushcrawl check [SITE]``: is everything in place for a crawl? Settings, the CMS, the target.

In order: the settings validate; every effective setting is printed with where it came from (secrets
redacted); each site's connector loads, its options validate and its ``ping()`` reaches the CMS; each target
used answers: a ``local`` target's embedded server starts, a ``coveo`` target accepts the API key on the
Platform API (list sources) and the Push API (a file container), the site's source exists, and the identity
provider named in the target exists. Nothing is pushed. Exit status 1 when any check fails, with one line per
problem saying what to do.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

from connectors import registry
from connectors.base import Connector, ConnectorOptions
from crawler import privileges, secrets
from crawler.commands import Subparsers
from crawler.config import CoveoTarget, LocalTarget, Settings, connector_options, load_settings
from crawler.errors import PushcrawlError, PushError, SettingsError, TargetError
from crawler.provenance import effective_settings, format_settings
from crawler.pushapi import endpoints
from crawler.pushapi.client import PushApiClient, RetryPolicy

#: check answers quickly: a couple of tries, short timeouts (a crawl's retry policy would wait minutes)
CHECK_RETRY = RetryPolicy(max_attempts=2, backoff_base_s=0.2, backoff_max_s=1.0)
CHECK_TIMEOUT_S = 10.0


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check", help="validate settings, reach the CMS and the target, print effective settings"
    )
    p.add_argument("site", nargs="?", metavar="SITE", help="check this site only (default: every site)")
    p.add_argument("--target", help="check this target instead of the sites' own")
    p.add_argument("--settings", help="settings file (default: ./settings.yaml or $PUSHCRAWL_SETTINGS)")
    p.add_argument("-s", "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--no-settings", action="store_true", help="do not print the effective settings")
    p.set_defaults(func=run)


@dataclass
class Report:
    out: TextIO
    problems: list[tuple[str, str]] = field(default_factory=list)  # (what is wrong, what to do)

    def ok(self, what: str) -> None:
        self.out.write(f"  ok    {secrets.redact(what)}\n")

    def fail(self, what: str, todo: str) -> None:
        self.problems.append((secrets.redact(what), secrets.redact(todo)))
        self.out.write(f"  FAIL  {secrets.redact(what)}\n")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    report = Report(out)
    out.write("pushcrawl check\n")
    try:
        settings = load_settings(args.settings, args.overrides)
    except SettingsError as exc:
        report.fail(str(exc), f"edit {exc.file}{' at ' + exc.key if exc.key else ''}, then run pushcrawl check again")
        return _summary(report)
    chosen_by = " (chosen by $PUSHCRAWL_SETTINGS)" if not args.settings and os.environ.get("PUSHCRAWL_SETTINGS") else ""
    report.ok(f"settings valid: {settings.source_file}{chosen_by}")
    for name in registry.shadowed():
        out.write(f"  note  an installed entry point {name!r} is hidden by the shipped connector of that name\n")
    sites = list(settings.sites)
    if args.site:
        if args.site not in settings.sites:
            known = ", ".join(sorted(settings.sites)) or "none"
            report.fail(f"site {args.site!r} is not defined", f"use one of: {known}, or add it under 'sites:'")
            return _summary(report)
        sites = [args.site]
    if not sites:
        report.fail("no site is defined", "add a site under 'sites:' (pushcrawl new-connector NAME creates one)")
    options = {site: _check_site(report, settings, site) for site in sites}
    _check_targets(report, settings, sites, args.target)
    if not args.no_settings:
        rows = effective_settings(settings, args.overrides, {k: v for k, v in options.items() if v is not None})
        out.write(f"\neffective settings ({settings.source_file}):\n")
        out.write("\n".join(format_settings(rows)) + "\n")
    return _summary(report)


def _summary(report: Report) -> int:
    if not report.problems:
        report.out.write("\nall checks passed\n")
        return 0
    report.out.write(f"\n{len(report.problems)} problem(s):\n")
    for what, todo in report.problems:
        report.out.write(f"  - {what}\n      → {todo}\n")
    return 1


def _check_site(report: Report, settings: Settings, site: str) -> ConnectorOptions | None:
    ref = settings.sites[site].connector
    try:
        cls, options = connector_options(settings, site)
    except SettingsError as exc:
        report.fail(f"site {site}: {exc}", f"fix {exc.key} in {exc.file}")
        return None
    report.ok(f"site {site}: connector {ref} ({cls.__module__}.{cls.__name__}), options valid")
    # ignore: a bound classmethod has __func__ at run time; mypy types Connector.ping as a plain callable
    if getattr(cls.ping, "__func__", None) is Connector.ping.__func__:  # type: ignore[attr-defined]
        report.ok(f"site {site}: connector has no ping(); the CMS is first reached by the crawl")
        return options
    try:
        cls.ping(options)
    except PushcrawlError as exc:
        report.fail(
            f"site {site}: the CMS did not answer as expected: {exc}",
            f"check sites.{site}.options (URL, credentials) and that the CMS is up and reachable from here",
        )
    except Exception as exc:  # a user's connector may raise anything from ping(); report it, don't crash
        report.fail(
            f"site {site}: {cls.__name__}.ping() raised {type(exc).__name__}: {exc}",
            "fix the connector's ping(): it should raise ConnectorError with a message saying what is wrong",
        )
    else:
        report.ok(f"site {site}: CMS reachable (ping)")
    return options


def _check_targets(report: Report, settings: Settings, sites: list[str], override: str | None) -> None:
    by_target: dict[str, list[str]] = {}
    # ignore: None stands for "no site" (target_for(None) picks the default target); sites is list[str]
    for site in sites or [None]:  # type: ignore[list-item]
        try:
            name, _ = settings.target_for(site, override)
        except SettingsError as exc:
            report.fail(str(exc), f"define the target under 'targets:' in {exc.file}, or pick another")
            return
        by_target.setdefault(name, []).extend([site] if site else [])
    for name, target_sites in by_target.items():
        target = settings.targets[name]
        if isinstance(target, LocalTarget):
            _check_local(report, settings, name, target, target_sites)
        else:
            assert isinstance(target, CoveoTarget)
            _check_coveo(report, settings, name, target, target_sites)


def _source_name(settings: Settings, site: str, target: LocalTarget | CoveoTarget) -> str:
    return settings.sites[site].source or target.source or site


def _check_local(report: Report, settings: Settings, name: str, target: LocalTarget, sites: list[str]) -> None:
    from crawler.targets import start_local

    try:
        server, client = start_local(settings, target)
    except ImportError as exc:
        report.fail(f"target {name}: the local Push API is not available ({exc})", "reinstall pushcrawl")
        return
    except (OSError, PushcrawlError) as exc:
        report.fail(
            f"target {name}: the embedded local Push API did not start: {exc}",
            f"check that targets.{name}.data_dir ({settings.resolve_path(target.data_dir)}) is writable",
        )
        return
    try:
        existing = {str(s.get("name")) for s in client.list_sources()}
        report.ok(f"target {name}: local Push API started on {server.base_url}, data in {target.data_dir}")
        for site in sites:
            source = _source_name(settings, site, target)
            state = "exists" if source in existing else "will be created by the first crawl"
            report.ok(f"target {name}: source {source!r} for site {site} {state}")
    except PushcrawlError as exc:
        report.fail(f"target {name}: the local Push API does not answer: {exc}", "report this as a bug")
    finally:
        server.stop()


def _check_coveo(report: Report, settings: Settings, name: str, target: CoveoTarget, sites: list[str]) -> None:
    key = target.api_key.get_secret_value()
    secrets.register(key)
    platform = endpoints.platform_base(target.region, target.platform_url)
    client = PushApiClient(
        endpoints.push_base(target.region, target.base_url),
        platform,
        target.organization_id,
        key,
        CHECK_TIMEOUT_S,
        CHECK_RETRY,
    )
    try:
        sources = client.list_sources()
    except TargetError as exc:
        report.fail(
            f"target {name}: the API key was refused: {exc}",
            f"set targets.{name}.api_key (usually ${{COVEO_API_KEY}}) to a key of organization "
            f"{target.organization_id} with Sources - Edit privileges",
        )
        return
    except PushError as exc:
        where = "platform_url" if target.platform_url else "region"
        report.fail(
            f"target {name}: cannot list sources at {platform}: {exc}",
            f"check targets.{name}.organization_id and targets.{name}.{where}, and that the host is reachable",
        )
        return
    report.ok(f"target {name}: Platform API answers, key accepted ({len(sources)} source(s))")
    try:
        client.create_file_container()
    except PushcrawlError as exc:
        report.fail(
            f"target {name}: the Push API refused a file container: {exc}",
            f"check targets.{name}.base_url/region and that the key may push (Sources - Edit)",
        )
    else:
        report.ok(f"target {name}: Push API answers, key may push")
    by_id = {str(s.get("id")): str(s.get("name")) for s in sources}
    by_name = {v: k for k, v in by_id.items()}
    for site in sites:
        source = _source_name(settings, site, target)
        if target.source_id and not settings.sites[site].source:
            if target.source_id in by_id:
                report.ok(f"target {name}: source id {target.source_id} for site {site} exists")
                _check_privileges(report, settings, client, name, target, site, target.source_id, source)
            else:
                report.fail(
                    f"target {name}: source id {target.source_id!r} (site {site}) not found",
                    f"fix targets.{name}.source_id; existing: {', '.join(sorted(by_id)) or 'none'}",
                )
        elif source in by_name:
            report.ok(f"target {name}: source {source!r} for site {site} exists (id {by_name[source]})")
            _check_privileges(report, settings, client, name, target, site, by_name[source], source)
        else:
            report.fail(
                f"target {name}: source {source!r} (site {site}) does not exist in organization "
                f"{target.organization_id}",
                f"create it with 'pushcrawl sources create {source} --target {name}', or set "
                f"sites.{site}.source / targets.{name}.source to one of: {', '.join(sorted(by_name)) or 'none'}",
            )
    if target.security_provider:
        _check_provider(report, client, name, target.security_provider)


def _check_privileges(
    report: Report,
    settings: Settings,
    client: PushApiClient,
    name: str,
    target: CoveoTarget,
    site: str,
    source_id: str,
    source: str,
) -> None:
    """Ask the target whether the key may push to this source (and identities, for content_system sites)."""
    sets = [("push items to source " + repr(source), privileges.push_items(source_id, source))]
    if settings.sites[site].security.mode == "content_system":
        sets.append(("push identities to the security identity provider", privileges.push_identities()))
    for what, needed in sets:
        try:
            lacking = privileges.missing(client, target.organization_id, needed)
        except privileges.EvaluatorUnavailable as exc:
            report.out.write(f"  note  target {name}: privileges not verified (no privilege evaluator: {exc})\n")
            return
        if lacking:
            report.fail(
                f"target {name}: the API key may not {what} (site {site})",
                "give the key these privileges (Administration Console > API Keys, or create one from the "
                f"Push source's page): {'; '.join(lacking)}",
            )
        else:
            report.ok(f"target {name}: the API key may {what} (site {site})")


def _check_provider(report: Report, client: PushApiClient, target: str, provider: str) -> None:
    from urllib.parse import quote

    try:
        client.request(
            "GET", f"{client.platform_root}/securityproviders/{quote(provider, safe='')}", what="get provider"
        )
    except PushError as exc:
        if exc.status == 404:
            report.fail(
                f"target {target}: identity provider {provider!r} does not exist",
                f"create the security identity provider {provider!r} in the organization, or fix "
                f"targets.{target}.security_provider",
            )
        else:
            report.fail(f"target {target}: cannot read identity provider {provider!r}: {exc}", "check the key")
    except PushcrawlError as exc:
        report.fail(f"target {target}: cannot read identity provider {provider!r}: {exc}", "check the key")
    else:
        report.ok(f"target {target}: identity provider {provider!r} exists")
