"""Client side of Coveo's Push API (and the Platform API calls a Push source needs), over requests.

``endpoints`` maps regions to hosts, ``client`` makes the calls with retries, ``body`` turns mapped items
into Push API JSON. The same client talks to Coveo's cloud and to the local Push API.
"""

from crawler.pushapi.client import FileContainer, PushApiClient, RetryPolicy

__all__ = ["FileContainer", "PushApiClient", "RetryPolicy"]
