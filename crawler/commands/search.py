"""``pushcrawl search QUERY``: query the target's index, optionally as a given identity.

For a local target the embedded local Push API is started on its data for the time of the query.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from crawler.config import CoveoTarget, LocalTarget, load_settings
from crawler.pushapi.client import PushApiClient


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("search", help="search the index (as anonymous or as an identity)")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--as", dest="identity", metavar="IDENTITY", help="search as this user (e.g. alice@example.com)")
    p.add_argument("--provider", help="security provider of --as (default: the source's)")
    p.add_argument("--target", help="target name from settings.yaml")
    p.add_argument("--settings", help="settings file")
    p.add_argument("-n", "--count", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--json", action="store_true", help="print the raw JSON response")
    p.set_defaults(func=run)


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
        token = client.search_token(args.identity, args.provider) if args.identity else None
        result = client.search(args.query, token=token, count=args.count)
    finally:
        if server is not None:
            server.stop()
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    results = result.get("results", [])
    print(
        f"{result.get('totalCount', len(results))} result(s) for {args.query!r}"
        + (f" as {args.identity}" if args.identity else " (anonymous)")
    )
    for i, hit in enumerate(results, 1):
        print(f"{i:3}. {hit.get('title') or '(no title)'}\n     {hit.get('clickUri') or hit.get('uri')}")
    return 0
