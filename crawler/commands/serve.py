"""``pushcrawl serve``: run the local Push API and its Content Browser until Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from crawler.commands import Subparsers

ENV_KEYS = "PUSHCRAWL_LOCAL_API_KEYS"


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the local Push API (offline twin of Coveo's) and its Content Browser",
        description="Serve the local Push API, Platform/Search API subsets and the Content Browser at /. "
        f"API keys come from --api-key (repeatable) or ${ENV_KEYS} (comma-separated); with none, any "
        "non-empty Bearer is accepted (dev mode). Keys may be scoped: KEY:push, KEY:push=<sourceId>, "
        "KEY:identities, KEY:view (join scopes with +). With keys, the Content Browser asks for a view key "
        "(or open the one-time login link printed at start). Listening beyond loopback needs a key.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: loopback only; any other address needs --api-key)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        default=None,
        metavar="NAME",
        help="a Host name clients use besides loopback ones and --host (repeatable; others get 421)",
    )
    p.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="PATH",
        help="the crawler's state.sqlite, to show its runs in the Content Browser (read only; default: "
        "state.sqlite next to the --data directory, as a crawl's default state_dir leaves it, when it exists)",
    )
    p.add_argument("--port", type=int, default=8090, help="port (default 8090; 0 picks a free one)")
    p.add_argument("--data", type=Path, default=Path(".pushcrawl/local"), help="data directory")
    p.add_argument("--org-id", default="pushcrawl-local", help="organization id the URLs must carry")
    p.add_argument("--api-key", action="append", default=None, metavar="KEY", help="API key (repeatable)")
    p.add_argument("--faults", default=None, metavar="SPEC", help="e.g. 429=0.1,5xx=0.05,reset=0.05,latency=20")
    p.add_argument("--processing-delay", type=float, default=0.0, metavar="S", help="seconds before ops apply")
    p.add_argument(
        "--queue-delay-scale",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds one minute of queueDelay lasts (default 60)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from crawler.cli import setup_logging
    from crawler.errors import PushcrawlError
    from crawler.localapi import LocalPushAPI

    setup_logging()
    keys = args.api_key or [k for k in os.environ.get(ENV_KEYS, "").split(",") if k.strip()]
    try:
        server = LocalPushAPI(
            args.data,
            host=args.host,
            port=args.port,
            org_id=args.org_id,
            api_keys=keys,
            processing_delay=args.processing_delay,
            queue_delay_scale=args.queue_delay_scale,
            faults=args.faults,
            allowed_hosts=args.allow_host,
            state_db=args.state or _default_state(args.data),
        )
        server.start()
    except (OSError, ValueError) as exc:
        raise PushcrawlError(f"cannot start the local Push API: {exc}") from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    mode = f"{len(keys)} API key(s)" if keys else "dev mode: any Bearer accepted"
    print(f"Local Push API on {server.base_url} (org {args.org_id}, {mode})", flush=True)
    if keys:
        # A one-time link, so the operator's browser gets a session without pasting a key into a form.
        link = f"{server.base_url}/login?once={server.ctx.auth.one_time_link()}"
        print(f"Content Browser: {server.base_url}/ (log in with a view key, or once with {link})", flush=True)
    else:
        print(f"Content Browser: {server.base_url}/", flush=True)
    print(f"Push API base: {server.base_url}/push/v1/organizations/{args.org_id}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("Local Push API stopped.", flush=True)
    return 0


def _default_state(data: Path) -> Path | None:
    """``.pushcrawl/state.sqlite`` for the default ``--data .pushcrawl/local``: where a crawl keeps its runs."""
    candidate = data.parent / "state.sqlite"
    return candidate if candidate.exists() else None
