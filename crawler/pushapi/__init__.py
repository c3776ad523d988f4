"""The HTTP side of Coveo's Push API (and the Platform API calls a Push source needs), over requests.

``endpoints`` maps regions to hosts, ``core`` makes one call with retries, ``client`` names every call. The
client knows nothing of runs, batches' meaning or state: the wire format is crawler.wire, the push sink that
journals and commits acknowledged batches is pipelines.sink. The same client talks to Coveo's cloud and to
the local Push API. Import the submodules; this package imports nothing, so ``crawler.pushapi.endpoints``
does not load requests.
"""
