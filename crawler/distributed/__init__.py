"""One run spread over many worker processes and machines, on scrapy-redis.

    pushcrawl crawl SITE --workers N   the coordinator (crawler.distributed.coordinator): the usual run —
                                       scope lock, run row, orderingId, state, end-of-run steps — whose crawl
                                       phase is N worker processes sharing a Redis frontier
    pushcrawl worker SITE              a worker (crawler.distributed.worker): joins the site's current run
                                       from any machine that reaches Redis and the target

Modules: ``config`` (the ``distributed:`` settings), ``keys`` (Redis key names, connection, the shared lock),
``ledger`` (RunLedger over Redis), ``shared`` (the state workers share: fingerprints, journal, acks),
``member`` (a worker's Scrapy extension: heartbeat, busy/idle, the end of the crawl) and ``frontier`` (the
scrapy-redis scheduler that marks a worker busy before it pops a request).
"""
