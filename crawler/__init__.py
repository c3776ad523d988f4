"""pushcrawl's core: configuration, CLI, run orchestration, items, state, Push API client and local Push API."""

__version__ = "0.1.0"
