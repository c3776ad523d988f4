"""SourceLogsClient: read what the indexing pipeline did with each item (docs/push-api-contract.md, "Source Logs API").

``POST <host>/logs/v1/organizations/{org}?from=&to=&page=&perPage=`` with a body of filters answers
``{"documentLogEntries": [...], "hasNextPage": bool}``. Coveo calls the route resource-intensive ("can take up
to a minute — avoid frequent calls"), so this client is called a few times per run, never per item: one read
covers a whole run (all of this source's add/update entries since it began), page by page.

Conservative reading of the contract: ``from``/``to`` at most 7 days apart (a longer span is split into
windows of 7 days less a minute), never older than the 14 days logs are kept, a long read timeout, retries with
backoff on 429/5xx and connection errors (crawler.pushapi.core), and a cap on pages so one read stays bounded —
entries past the cap are not guessed at: the items they would have named stay "pending".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crawler.errors import PushError
from crawler.pushapi.core import ApiCore, RetryPolicy

#: the contract's widest range, less a margin for clock skew between us and the server
WINDOW = timedelta(days=7) - timedelta(minutes=1)
#: logs are kept 14 days: asking further back only costs the server work
RETENTION = timedelta(days=14)
PER_PAGE = 1000
#: pages read per call of ``entries`` (1,000 entries each): bounds one read's cost on both sides
MAX_PAGES = 500
#: "can take up to a minute": wait longer than a Push API call before counting a timeout
TIMEOUT_S = 120.0
#: operations that put an item into the index (deletions are the sweep's business)
ITEM_OPERATIONS = ("ADD", "ADD_BY_REFERENCE", "UPDATE")


@dataclass(frozen=True)
class LogEntry:
    """One pipeline outcome for one item."""

    document_id: str
    at: datetime
    operation: str
    result: str  # COMPLETED | ERROR | REJECTED | SKIPPED | WARNING
    task: str  # the pipeline stage: CONSUMING, VALIDATION, PROCESSING, INDEXING...
    reason: str  # meta's error text (key names are not documented: error, errorCode, message, or the whole meta)
    ordering_id: int | None  # meta.orderingId when the server says which operation the entry is about


@dataclass
class LogsRead:
    entries: list[LogEntry]
    calls: int
    truncated: bool  # MAX_PAGES reached: later entries were not read


def w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _reason(meta: object, result: str) -> str:
    if not isinstance(meta, dict):
        return result
    error, code = meta.get("error"), meta.get("errorCode")
    if error and code and str(code) not in str(error):
        return f"{code}: {error}"
    text = error or code or meta.get("message")
    if text:
        return str(text)[:500]
    rest = {k: v for k, v in meta.items() if k != "orderingId"}
    return str(rest)[:500] if rest else result


def parse_entry(raw: object) -> LogEntry | None:
    """An entry of the answer, or None for one that names no item (a batch file's own entry)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        return None
    try:
        at = datetime.fromisoformat(str(raw.get("datetime", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    meta = raw.get("meta")
    oid = meta.get("orderingId") if isinstance(meta, dict) else None
    result = str(raw.get("result", ""))
    return LogEntry(
        raw["id"],
        at,
        str(raw.get("operation", "")),
        result,
        str(raw.get("task", "")),
        _reason(meta, result),
        oid if isinstance(oid, int) else None,
    )


def windows(since: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[since, until] cut into spans the API accepts, oldest first, within the logs' retention."""
    start = max(since, until - RETENTION)
    while start < until:
        end = min(start + WINDOW, until)
        yield start, end
        start = end


class SourceLogsClient(ApiCore):
    """Blocking client of one organization's Source Logs API."""

    def __init__(
        self,
        logs_base: str,
        organization_id: str,
        api_key: str,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = TIMEOUT_S,
        gone: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(api_key, timeout_s, retry, sleep, gone)
        self.root = f"{logs_base.rstrip('/')}/organizations/{organization_id}"

    @classmethod
    def beside(cls, client: ApiCore, logs_base: str, organization_id: str) -> SourceLogsClient:
        """A logs client with the same key, retry policy and knowledge of a gone server as a Push API client of
        the organization."""
        return cls(logs_base, organization_id, client._api_key, client.retry, client._sleep, gone=client._gone)

    def stream(
        self,
        source_id: str,
        since: datetime,
        until: datetime | None = None,
        max_pages: int = MAX_PAGES,
        per_page: int = PER_PAGE,
    ) -> LogsStream:
        """Every add/update entry of ``source_id`` between ``since`` and ``until`` (default now), oldest first,
        one page at a time: a run of 200,000 items is 200 pages, and holding them all (~460 B an entry) would
        make the end of a run grow with the site (``LogsStream.collect`` reads a small one whole)."""
        return LogsStream(self._pages(source_id, since, until or datetime.now(UTC), max_pages, per_page))

    def _pages(
        self, source_id: str, since: datetime, until: datetime, max_pages: int, per_page: int
    ) -> Iterator[list[LogEntry] | None]:
        """Pages of entries; a final None when the page cap stopped the read (LogsStream turns it into
        ``truncated``)."""
        body = {"sourcesIds": [source_id], "operations": list(ITEM_OPERATIONS)}
        calls = 0
        for start, end in windows(since, until):
            page = 0
            while True:
                if calls >= max_pages:
                    yield None
                    return
                # ``to`` rounded up to the next second: the entries of the last fraction of a second count
                to = w3c(end + timedelta(seconds=1))
                url = f"{self.root}?from={w3c(start)}&to={to}&page={page}&perPage={per_page}"
                answer = self.request("POST", url, json_body=body, what="read source logs").json()
                calls += 1
                if not isinstance(answer, dict) or not isinstance(answer.get("documentLogEntries"), list):
                    raise PushError(f"read source logs: unexpected answer {str(answer)[:200]}")
                yield [e for raw in answer["documentLogEntries"] if (e := parse_entry(raw)) is not None]
                if not answer.get("hasNextPage"):
                    break
                page += 1


class LogsStream:
    """A read of the source logs, page by page (each page a request, made when it is reached).
    ``calls`` and ``truncated`` are final once the pages are exhausted."""

    def __init__(self, pages: Iterator[list[LogEntry] | None]) -> None:
        self._pages = pages
        self.calls = 0
        self.truncated = False  # MAX_PAGES reached: later entries were not read

    def __iter__(self) -> Iterator[list[LogEntry]]:
        for page in self._pages:
            if page is None:
                self.truncated = True
                return
            self.calls += 1
            yield page

    def collect(self) -> LogsRead:
        """Every page in one list, with the final ``calls`` and ``truncated``."""
        out = [entry for page in self for entry in page]
        return LogsRead(out, self.calls, self.truncated)
