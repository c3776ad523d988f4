"""Subcommands of the ``pushcrawl`` CLI, one module each, registered by ``crawler.cli.COMMANDS``."""

from __future__ import annotations

import argparse
from typing import TypeAlias

#: what ``crawler.cli`` hands each command's ``register``: argparse's sub-command action (typeshed names it so)
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
