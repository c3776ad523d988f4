"""Every default value of pushcrawl, in one place, sorted, each with the reason for its value.

settings.yaml is one layer on top of these; ``-s KEY=VALUE`` on the command line wins over both.
"""

from __future__ import annotations

# Push batches are spooled to a temporary file, so their size costs disk, not memory. 32 MiB is 1/8 of the
# 256 MB container limit (docs/push-api-contract.md, "Limits and throttling"): far from the 413 edge even
# after JSON escaping grows a body, one failed batch costs ~3 s to resend at 100 Mbit/s, and 5 KB documents
# still pack ~5,000 per batch, i.e. 3 Push API requests (create container, upload, apply) per 5,000 items.
# The official JS/Java clients flush at 5 MiB, which needs 6x more requests for the same items against
# per-organization call quotas.
BATCH_MAX_BYTES = 32 * 1024 * 1024
# The embedded local target (kind: local) applies each batch inside the crawl's own process: the batch file is
# read and decoded whole (as a str, 4 bytes a character once one character is outside the BMP), so a batch
# of B bytes costs up to ~5 B of the crawl's memory while it is applied. No call quota argues for big
# batches there: its default byte cap is lower (push.batch_max_bytes, when set, applies to every target).
LOCAL_BATCH_MAX_BYTES = 8 * 1024 * 1024
# Item cap per batch: bounds the journal's commit transaction and what one failed or killed batch re-sends.
BATCH_MAX_ITEMS = 5000

# Circuit breaker: among the last BREAKER_WINDOW finished batches, at least BREAKER_MIN_FAILURES that failed
# after all retries and a failure ratio of BREAKER_ERROR_RATIO stop the run: the index is failing everywhere,
# and pushing on would only burn quota and time. Unsent items keep no fingerprint and go out next run.
BREAKER_ERROR_RATIO = 0.5
BREAKER_MIN_FAILURES = 3
BREAKER_WINDOW = 10

# A file container's limit: a batch or one item's compressed content, 256 MB (docs/push-api-contract.md,
# "Limits and throttling").
CONTAINER_LIMIT_BYTES = 256 * 1024 * 1024
# Inline content (``data`` or base64 ``compressedBinaryData``) is limited to 5 MB (docs/push-api-contract.md,
# "Items"); larger content travels in its own file container (``compressedBinaryDataFileId``).
INLINE_LIMIT_BYTES = 5 * 1024 * 1024

# Language detection answered from last run's memo when a document's text is unchanged (pipelines/langmemo.py):
# exact (keyed by what detection reads) and a no-change rerun never loads the 74 MB model. Scrapy setting
# PUSHCRAWL_LANGUAGE_MEMO per site; false only to measure the difference (bench/rerun_cost.py).
LANGUAGE_MEMO = True

# Uploads in flight at once: 2 cores here; more than a few parallel uploads only queues at the index.
MAX_IN_FLIGHT = 4

# Deletions: refuse a sweep or a deletion set larger than this share of the site's known items.
MAX_DELETIONS_RATIO = 0.10

# Progress log line period when stderr is not a terminal: often enough to see a stall in a log file,
# rare enough that a 1-hour run writes ~240 lines. Scrapy setting PUSHCRAWL_PROGRESS_INTERVAL per site.
PROGRESS_INTERVAL_S = 15.0

# Per-run log files kept per site under <state_dir>/logs (crawler.runlog): a schedule every 5 minutes keeps
# about 4 hours of history; each log of a small incremental run is a few KB.
RUN_LOGS_KEPT = 50

# `pushcrawl runs --check`: a fall of documents larger than this share between two runs of the same mode fails.
RUNS_MAX_DROP = 0.2

# `pushcrawl schedule` stop: seconds a crawl gets after SIGTERM (it finishes in-flight batches) before SIGKILL.
SCHEDULE_GRACE_S = 60.0

# Local target: where the embedded Push API keeps its SQLite database and containers.
LOCAL_DATA_DIR = ".pushcrawl/local"
LOCAL_ORG_ID = "pushcrawl-local"
# How long `crawl` waits at the end for the local server to apply queued operations.
LOCAL_APPLY_TIMEOUT_S = 120.0

# `crawl --wait-indexed` without a value: Coveo takes minutes from 202 to searchable (the index commits about
# once a minute, docs/push-api-contract.md); half an hour covers a large batch on a busy organization.
WAIT_INDEXED_S = 1800.0

# Requests to the Push API: connect/read timeouts in seconds.
PUSH_TIMEOUT_S = 60.0

# Retries: Coveo's own clients start at 5 s and double; we start lower because 5xx and resets are usually
# brief, and honour Retry-After when the server sends one.
# 8 attempts at up to 120 s each ride out a few minutes of throttling; a quota 429 that outlasts them
# (TOO_MANY_DOCUMENTS_DAILY lasts until the next day) stops the run, keeping unsent items for the next one.
RETRY_MAX_ATTEMPTS = 8
RETRY_BACKOFF_BASE_S = 1.0
RETRY_BACKOFF_MAX_S = 120.0

# Where run state (fingerprints, cursors, journal, run history) is kept, relative to settings.yaml's folder.
STATE_DIR = ".pushcrawl"
# Run history kept per site and target: the newest KEEP_RUNS runs, their journal entries and their ledger
# (seen ids, named failures). Older ones are pruned when a run starts, so the state file stays flat in the
# number of runs (a site crawled every 15 minutes makes 35,000 runs a year). 100 runs is a day of 15-minute
# runs or three months of daily ones: enough for ``pushcrawl runs`` and for diagnosing a bad week.
KEEP_RUNS = 100

# Settings file looked up when --settings is not given (then $PUSHCRAWL_SETTINGS).
SETTINGS_FILE = "settings.yaml"

# Scrapy settings applied to every connector: polite by default.
SCRAPY = {
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
    # Scrapy (asyncio reactor) starts this many worker tasks for *every* callback's output, most of which yield
    # one document: 100 (its default) cost ~1 ms of CPU per page, 16 ~0.2 ms (bench/RESULTS.md, crawl cost).
    # Items are processed in the reactor's one thread anyway; 16 still overlaps a listing page's pushes.
    "CONCURRENT_ITEMS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    # Scrapy's own downloader let every request queued in one loop turn through at once under the asyncio
    # reactor, past CONCURRENT_REQUESTS_PER_DOMAIN: this one holds the limit (crawler/downloader.py)
    "DOWNLOADER": "crawler.downloader.PoliteDownloader",
    "DOWNLOAD_TIMEOUT": 30,
    "LOG_LEVEL": "INFO",
    "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
    # Scrapy >= 2.19 opens a remote-control HTTP port per crawl; a scheduled crawler needs no open port.
    "REMOTE_CONTROL_ENABLED": False,
    "ROBOTSTXT_OBEY": False,  # API connectors read APIs; the web connector turns it on
    "TELNETCONSOLE_ENABLED": False,
    "USER_AGENT": "pushcrawl/0.1 (+https://github.com/pushcrawl/pushcrawl)",
}
