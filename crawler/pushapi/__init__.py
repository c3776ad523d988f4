"""Client side of Coveo's Push API (and the Platform API calls a Push source needs), over requests.

``endpoints`` maps regions to hosts, ``core`` makes one call with retries, ``client`` names every call,
``body`` turns mapped items into Push API JSON, ``limits`` checks items against the contract's limits,
``batch`` spools batches to temporary files, ``sender`` sends them from worker threads and records
acknowledgements. The same client talks to Coveo's cloud and to the local Push API.
"""

from crawler.pushapi.client import FileContainer, PushApiClient
from crawler.pushapi.core import RetryPolicy

__all__ = ["FileContainer", "PushApiClient", "RetryPolicy"]
