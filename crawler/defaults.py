"""Every default value of pushcrawl, in one place, sorted, each with the reason for its value.

settings.yaml is one layer on top of these; ``-s KEY=VALUE`` on the command line wins over both.
"""

from __future__ import annotations

# Push batches: Coveo's file containers take up to 256 MB, but a smaller batch is retried cheaply, keeps
# memory flat and still needs only ~2 requests per 1,000 typical (5 KB) documents. The official JS/Java
# clients flush at 5 MiB; we allow more items per request but cap bytes at the same order of magnitude.
BATCH_MAX_BYTES = 5 * 1024 * 1024
# Item cap per batch: bounds the state journal's transaction and the loss on one failed batch.
BATCH_MAX_ITEMS = 1000
# Uploads in flight at once: 2 cores here; more than a few parallel uploads only queues at the index.
MAX_IN_FLIGHT = 4

# Deletions: refuse a sweep or a deletion set larger than this share of the site's known items.
MAX_DELETIONS_RATIO = 0.10

# Progress log line period when stderr is not a terminal: often enough to see a stall in a log file,
# rare enough that a 1-hour run writes ~240 lines. Scrapy setting PUSHCRAWL_PROGRESS_INTERVAL per site.
PROGRESS_INTERVAL_S = 15.0

# `pushcrawl runs --check`: a fall of documents larger than this share between two runs of the same mode fails.
RUNS_MAX_DROP = 0.2

# `pushcrawl schedule` stop: seconds a crawl gets after SIGTERM (it finishes in-flight batches) before SIGKILL.
SCHEDULE_GRACE_S = 60.0

# Local target: where the embedded Push API keeps its SQLite database and containers.
LOCAL_DATA_DIR = ".pushcrawl/local"
LOCAL_ORG_ID = "pushcrawl-local"
# How long `crawl` waits at the end for the local server to apply queued operations.
LOCAL_APPLY_TIMEOUT_S = 120.0

# Requests to the Push API: connect/read timeouts in seconds.
PUSH_TIMEOUT_S = 60.0

# Retries: Coveo's own clients start at 5 s and double; we start lower because 5xx and resets are usually
# brief, and honour Retry-After when the server sends one.
RETRY_MAX_ATTEMPTS = 8
RETRY_BACKOFF_BASE_S = 1.0
RETRY_BACKOFF_MAX_S = 120.0

# Where run state (fingerprints, cursors, journal, run history) is kept, relative to settings.yaml's folder.
STATE_DIR = ".pushcrawl"

# Settings file looked up when --settings is not given (then $PUSHCRAWL_SETTINGS).
SETTINGS_FILE = "settings.yaml"

# Scrapy settings applied to every connector: polite by default.
SCRAPY = {
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 4.0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_TIMEOUT": 30,
    "LOG_LEVEL": "INFO",
    "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
    # Scrapy >= 2.19 opens a remote-control HTTP port per crawl; a scheduled crawler needs no open port.
    "REMOTE_CONTROL_ENABLED": False,
    "ROBOTSTXT_OBEY": False,  # API connectors read APIs; the web connector turns it on
    "TELNETCONSOLE_ENABLED": False,
    "USER_AGENT": "pushcrawl/0.1 (+https://github.com/pushcrawl/pushcrawl)",
}
