"""The WSGI application: routing, authentication, scopes, fault injection, error bodies.

Route groups: ``push`` (the Push API calls of docs/push-api-contract.md under ``/push/v1/organizations/{org}``
and the legacy ``/v1/organizations/{org}``), ``upload`` (file container uploads, no auth — presigned like S3),
``platform`` (``/rest/organizations/{org}/...``, and the Source Logs API ``/logs/v1/organizations/{org}``),
``search`` (``/rest/search/v2``), ``local`` (``/local/status``, ``/local/activity``: any valid key;
``/local/item``: a ``view`` key), ``page`` (the Content Browser: a ``view`` key, through a login session cookie
or a Bearer header) and ``login``/``static`` (open). Every request must carry a loopback or configured Host
header first (hosts.py). Faults are injected only on ``push`` and ``upload``, and on the Logs API when a fault
names it (``@logs``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from crawler.localapi import browser, local, logsapi, platform, push, searchapi
from crawler.localapi.apierror import ApiError, too_large
from crawler.localapi.context import MAX_REQUEST, Context
from crawler.localapi.faults import ConnectionReset, Faults, drop_answer
from crawler.localapi.hosts import HostCheck

if TYPE_CHECKING:  # typeshed's WSGI types exist for type checkers only
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)
Handler = Callable[..., Response]


@dataclass
class Route:
    group: str
    handler: Handler
    name: str = ""
    capability: str = ""


PUSH_ROUTES: list[tuple[str, str, Handler, str]] = [
    ("POST", "/sources/<source_id>/status", push.set_status, "status"),
    ("PUT", "/sources/<source_id>/documents", push.put_document, "document"),
    ("DELETE", "/sources/<source_id>/documents", push.delete_document, "delete"),
    ("DELETE", "/sources/<source_id>/documents/olderthan", push.delete_older_than, "olderthan"),
    ("PUT", "/sources/<source_id>/documents/batch", push.put_batch, "batch"),
    ("POST", "/files", push.create_file, "files"),
    ("PUT", "/providers/<provider_id>/permissions", push.put_identity, "identity"),
    ("DELETE", "/providers/<provider_id>/permissions", push.delete_identity, "identity"),
    ("PUT", "/providers/<provider_id>/mappings", push.put_mapping, "identity"),
    ("PUT", "/providers/<provider_id>/permissions/batch", push.put_identity_batch, "identity"),
    (
        "DELETE",
        "/providers/<provider_id>/permissions/olderthan",
        push.delete_identities_older_than,
        "identity",
    ),
]
PLATFORM_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/sources", platform.list_sources),
    ("POST", "/sources", platform.create_source),
    ("GET", "/sources/<source_id>", platform.get_source),
    ("GET", "/sources/<source_id>/metadata", local.source_metadata),
    ("GET", "/securityproviders", platform.list_providers),
    ("GET", "/securityproviders/<provider_id>", platform.get_provider),
    ("PUT", "/securityproviders/<provider_id>", platform.put_provider),
    ("POST", "/securityproviders/<provider_id>", platform.put_provider),
    ("GET", "/indexes/fields", platform.list_fields),
    ("GET", "/indexes/page/fields", platform.list_fields),
    ("POST", "/indexes/fields", platform.create_fields),
    ("POST", "/indexes/fields/batch/create", platform.create_fields),
    ("POST", "/indexes/fields/search", platform.list_fields),
    ("GET", "/indexes/fields/<name>", platform.get_field),
    ("DELETE", "/indexes/fields/<name>", platform.delete_field),
]


class App:
    def __init__(self, ctx: Context, faults: Faults, hosts: HostCheck | None = None) -> None:
        self.ctx = ctx
        self.faults = faults
        self.hosts = hosts or HostCheck("127.0.0.1")
        self.routes: dict[str, Route] = {}
        rules: list[Rule] = []

        def add(method: str, path: str, route: Route) -> None:
            endpoint = f"r{len(self.routes)}"
            self.routes[endpoint] = route
            rules.append(Rule(path, methods=[method], endpoint=endpoint, strict_slashes=False))

        for prefix in ("/push/v1/organizations/<org>", "/v1/organizations/<org>"):
            for method, path, handler, name in PUSH_ROUTES:
                capability = "push" if "<source_id>" in path else "files" if name == "files" else "identities"
                add(method, prefix + path, Route("push", handler, name, capability))
        for method, path, handler in PLATFORM_ROUTES:
            capability = "read" if method == "GET" else "admin"
            add(method, "/rest/organizations/<org>" + path, Route("platform", handler, capability=capability))
        add(
            "PUT",
            "/upload/<file_id>",
            Route("upload", lambda ctx, req, file_id: ctx.files.upload(req, file_id), "upload"),
        )
        # Source Logs API: its own host at Coveo, the same server here so `base_url` reaches it
        add("POST", "/logs/v1/organizations/<org>", Route("logs", logsapi.logs, "logs", "read"))
        for method in ("POST", "GET"):
            add(method, "/rest/search/v2", Route("search", searchapi.search))
        add("POST", "/rest/search/v2/token", Route("token", searchapi.make_token))
        add("POST", "/rest/privilege/evaluate", Route("privilege", platform.evaluate_privilege))
        for path, handler, capability in (
            ("/status", local.status, "read"),
            ("/activity", local.activity, "read"),
            ("/item", local.item, "search"),  # an item's full text, whatever its permissions: view keys only
        ):
            add("GET", "/local" + path, Route("local", handler, capability=capability))
        # the pages and the login form load on their first request (browser.page): a crawl serves neither
        for path, name in browser.PAGES.items():
            add("GET", path, Route("page", browser.page(name), capability="search"))
        add("GET", "/login", Route("login", browser.page("login.form")))
        add("POST", "/login", Route("login", browser.page("login.submit")))
        add("POST", "/logout", Route("login", browser.page("login.logout")))
        add("GET", "/static/<name>", Route("static", browser.static))
        self.url_map = Map(rules)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if not request.path.startswith("/upload/"):
            # Bounds every JSON body read, chunked ones included: werkzeug refuses a larger Content-Length
            # and stops a chunked body one byte past the limit, which json_body then refuses (413).
            # Uploads stream to disk under their own 256 MB limit.
            request.max_content_length = MAX_REQUEST + 1
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        values: dict[str, Any] = {}  # Any: werkzeug's URL converters return values of any type
        route: Route | None = None
        if not self.hosts.allows(request.headers.get("Host")):
            return ApiError(
                421,
                "MISDIRECTED_REQUEST",
                "This server answers loopback Host names only (and --allow-host ones); "
                f"not {request.headers.get('Host', '(none)')!r}.",
            ).response()
        try:
            endpoint, matched = self.url_map.bind_to_environ(request.environ).match()
            values = dict(matched)
            route = self.routes[str(endpoint)]
            return self._run(route, request, values)
        except ConnectionReset:
            return Response(b"")  # the socket is already shut; werkzeug treats the write as a dropped client
        except ApiError as exc:
            if route is not None and route.group == "push":
                target = values.get("source_id") or values.get("provider_id") or values.get("org", "")
                with self.ctx.store.write() as db:
                    self.ctx.store.log(
                        db,
                        target,
                        route.name.upper(),
                        f"HTTP {exc.status} {exc.code}",
                        document_id=request.args.get("documentId"),
                        detail=exc.message,
                    )
            return exc.response()
        except NotFound:
            return ApiError(404, "NOT_FOUND", f"No route for {request.path}.").response()
        except MethodNotAllowed:
            return ApiError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.path}.").response()
        except RequestEntityTooLarge:
            return too_large("The request body", MAX_REQUEST).response()
        except HTTPException as exc:
            return ApiError(exc.code or 500, "HTTP_ERROR", exc.description or "").response()
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.path)
            return ApiError(500, "INTERNAL_ERROR", "Unexpected error in the local Push API; see its log.").response()

    # Any: werkzeug's URL converters return values of any type
    def _run(self, route: Route, request: Request, values: dict[str, Any]) -> Response:
        ctx = self.ctx
        if route.group == "push":
            caller = ctx.auth.caller(request)
            ctx.check_org(values["org"])
            ctx.auth.require(caller, route.capability, values.get("source_id"))
            self.faults.inject(request, route.name)
            if self.faults.loses_answer(route.name):
                route.handler(ctx, request, **values)  # applied (or refused, then answered as usual)...
                raise drop_answer(request)  # ...and the answer never reaches the client
        elif route.group == "upload":
            self.faults.inject(request, "upload")
        elif route.group in ("platform", "logs"):
            caller = ctx.auth.caller(request)
            ctx.check_org(values["org"])
            ctx.auth.require(caller, route.capability)
            if route.group == "logs":
                self.faults.inject(request, "logs", named_only=True)
        elif route.group == "privilege":  # any valid key may ask what it may do (pushcrawl check)
            return platform.evaluate_privilege(ctx, request, ctx.auth.caller(request))
        elif route.group in ("search", "token"):
            caller = ctx.auth.caller(request, ctx.token_user if route.group == "search" else None)
            ctx.auth.require(caller, "search")
            if route.group == "search":
                return searchapi.search(ctx, request, caller.user_ids)
        elif route.group == "local" and not ctx.auth.dev_mode:  # dev mode serves loopback only, keyless
            ctx.auth.require(ctx.auth.caller(request), route.capability)
        elif route.group == "page":
            from crawler.localapi.browse import login  # with the first page (browser.page)

            denied = login.check(ctx, request)
            if denied is not None:
                return denied
        return route.handler(ctx, request, **values)
