"""The error a local Push API handler raises to answer with a Coveo-shaped error body.

Coveo answers errors with ``{"errorCode": "...", "message": "..."}`` (docs/push-api-contract.md, "Errors"); handlers
raise ``ApiError`` anywhere and the dispatcher turns it into that response, so validation code stays flat.
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Response


class ApiError(Exception):
    """An HTTP error with Coveo's ``errorCode``; ``headers`` lets 429s carry ``Retry-After``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        body = {"errorCode": self.code, "message": self.message}
        return Response(json.dumps(body), status=self.status, headers=self.headers, mimetype="application/json")


def json_response(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def missing(name: str) -> ApiError:
    return ApiError(412, "MISSING_PARAMETER", f"The parameter '{name}' is required.")


def invalid(name: str, why: str) -> ApiError:
    return ApiError(412, "INVALID_PARAMETER", f"The parameter '{name}' is invalid: {why}")


def bad_json(why: str) -> ApiError:
    return ApiError(400, "INVALID_JSON", why)


def too_large(what: str, limit: int) -> ApiError:
    return ApiError(413, "REQUEST_ENTITY_TOO_LARGE", f"{what} exceeds the limit of {limit} bytes.")
