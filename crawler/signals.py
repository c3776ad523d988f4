"""pushcrawl's own Scrapy signals (sent with ``crawler.signals.send_catch_log``), importable by connectors
without pulling in the run machinery.

``identity_needed(identity)``  a pipeline made a security identity (a collapse group) that must reach the
                               identity provider before the documents that reference it (pipelines.push).
``listing_failed(where, reason)``  a connector could not read a listing page: the run is not proven complete
                               (crawler.completeness records it in the run ledger).
"""

identity_needed = object()
listing_failed = object()
