"""The local Push API: an offline twin of Coveo's Push API, Platform/Search API subsets and a Content Browser.

    from crawler.localapi import LocalPushAPI
    server = LocalPushAPI(Path(".pushcrawl/local")); server.start(); ...; server.wait_idle(); server.stop()

It validates requests on its own from ``docs/push-api-contract.md`` and shares no code with the
Push API client or the pipelines, so it can serve as their test oracle.
"""

from __future__ import annotations

from crawler.localapi.server import LocalPushAPI

__all__ = ["LocalPushAPI"]
