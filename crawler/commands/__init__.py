"""Subcommands of the ``pushcrawl`` CLI, one module each, registered by ``crawler.cli.COMMANDS``."""
