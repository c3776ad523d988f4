"""The ``pushcrawl`` command line: a thin argparse front whose subcommands live in ``crawler/commands/``.

Each command module exposes ``register(subparsers)`` that adds its parser and sets ``func`` to a handler
``(args) -> int``. Errors we raise on purpose (PushcrawlError) are printed as one paragraph, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from crawler import __version__, malloc
from crawler.errors import PushcrawlError

#: command modules, in the order `pushcrawl --help` lists them
COMMANDS = (
    "crawl",
    "worker",
    "serve",
    "search",
    "check",
    "preview",
    "new_connector",
    "schedule",
    "runs",
    "fields",
    "sources",
    "delete",
    "purge",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pushcrawl",
        description="Crawl content systems with Scrapy and push them to Coveo's Push API (or a local twin).",
    )
    parser.add_argument("--version", action="version", version=f"pushcrawl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"crawler.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    malloc.tune()  # before any thread starts (crawler/malloc.py says why)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PushcrawlError as exc:
        print(f"pushcrawl: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # output piped into `head` and the like: the reader is gone, which is not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("pushcrawl: interrupted", file=sys.stderr)
        return 130


def setup_logging(level: str = "INFO") -> None:
    """Logging for commands that do not run Scrapy (Scrapy configures its own for crawls)."""
    from crawler.secrets import install_log_filter

    logging.basicConfig(level=level, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    install_log_filter()


if __name__ == "__main__":
    sys.exit(main())
