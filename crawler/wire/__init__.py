"""The Push API's wire format, apart from the HTTP client: what pushcrawl sends, built once, checked once.

``body`` turns mapped items into DocumentBody, delete and permission JSON; ``limits`` checks a document
against the contract's limits and encodes its batch entry; ``batch`` spools batch files; ``identity`` builds
BatchIdentityBody entries. Nothing here does I/O beyond temporary files, so configuration and pipelines may
import it without pulling in HTTP. The contract itself, in the project's words: docs/push-api-contract.md.
"""

from crawler.jsontypes import JSONObject

#: a JSON object as sent or received: the wire format's name for crawler.jsontypes.JSONObject
JsonObject = JSONObject
