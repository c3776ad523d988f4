"""``pushcrawl search QUERY [--aq EXPR]``: query the target's index, optionally as a given identity.

For a local target the embedded local Push API is started on its data for the time of the query. Each hit
is printed with its excerpt, the matched words highlighted (bold on a terminal, ``*word*`` otherwise). An
``--aq`` the server cannot run is an error (exit 2) naming the syntax, never a silent "0 results".
"""

from __future__ import annotations

import argparse
import json
import sys

from crawler.commands import Subparsers
from crawler.config import CoveoTarget, LocalTarget, Settings, load_settings
from crawler.pushapi.client import PushApiClient


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser("search", help="search the index (as anonymous or as an identity)")
    p.add_argument("query", metavar="QUERY", nargs="?", default="", help="words (all must match); may be empty")
    p.add_argument(
        "--aq",
        metavar="EXPR",
        help="advanced query in Coveo syntax, e.g. '@filetype==pdf', '@author=\"Ann\"', '@size>1000'",
    )
    p.add_argument("--as", dest="identity", metavar="IDENTITY", help="search as this user (e.g. alice@example.com)")
    p.add_argument("--provider", help="security provider of --as (default: the source's)")
    p.add_argument("--target", help="target name from settings.yaml")
    p.add_argument("--settings", help="settings file")
    p.add_argument("-n", "--count", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--json", action="store_true", help="print the raw JSON response")
    p.set_defaults(func=run)


def _providers(settings: Settings, args: argparse.Namespace) -> tuple[str, ...]:
    """Without --provider, --as also names the identity in the providers of the target's sources."""
    if args.provider:
        return ()
    from crawler.identities import provider_id
    from crawler.targets import source_name_for

    name, target = settings.target_for(None, args.target)
    sites = [s for s in settings.sites if args.target or settings.target_for(s)[0] == name]
    return tuple(sorted({provider_id(settings, target, source_name_for(settings, s, target)) for s in sites}))


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    _, target = settings.target_for(None, args.target)
    server = None
    client: PushApiClient
    if isinstance(target, LocalTarget):
        from crawler.targets import start_local

        server, client = start_local(settings, target)
    else:
        assert isinstance(target, CoveoTarget)
        from crawler.targets import coveo_client

        client = coveo_client(settings, target)
    try:
        token = None
        if args.identity:
            token = client.search_token(args.identity, args.provider, also_in=_providers(settings, args))
        result = client.search(args.query, token=token, count=args.count, aq=args.aq)
    finally:
        if server is not None:
            server.stop()
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    results = result.get("results", [])
    what = " ".join(x for x in (repr(args.query) if args.query else "", f"--aq {args.aq!r}" if args.aq else "") if x)
    print(
        f"{result.get('totalCount', len(results))} result(s) for {what or 'everything'}"
        + (f" as {args.identity}" if args.identity else " (anonymous)")
    )
    tty = sys.stdout.isatty()
    for i, hit in enumerate(results, 1):
        print(f"{i:3}. {hit.get('title') or '(no title)'}\n     {hit.get('clickUri') or hit.get('uri')}")
        text = highlighted(str(hit.get("excerpt") or ""), hit.get("excerptHighlights") or [], tty)
        if text.strip():
            print(f"     {text}")
    return 0


def highlighted(text: str, marks: list[dict[str, int]], tty: bool) -> str:
    """The excerpt on one line with its highlights marked, from Coveo's ``[{offset, length}]``."""
    on, off = ("\033[1m", "\033[0m") if tty else ("*", "*")
    out, pos = [], 0
    for mark in sorted(marks, key=lambda m: m.get("offset", 0)):
        start, length = int(mark.get("offset", 0)), int(mark.get("length", 0))
        if start < pos or length <= 0 or start + length > len(text):
            continue  # overlapping or out-of-range marks are skipped, never a crash
        out += [text[pos:start], on, text[start : start + length], off]
        pos = start + length
    out.append(text[pos:])
    return " ".join("".join(out).split())
