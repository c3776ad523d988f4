"""``pushcrawl fields list|sync``: compare the fields settings.yaml declares with the index, create missing ones.

Declarations are ``field_defaults.declare`` plus each site's ``fields.declare``. ``sync`` looks each one up
(``GET …/indexes/fields/{name}``, the same route on Coveo and the local Push API) and creates the missing
ones in one ``POST …/indexes/fields/batch/create``. It never changes or deletes an existing field: a type
mismatch is reported for a human to resolve (changing a field's type in Coveo needs a rebuild).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from crawler.commands import Subparsers
from crawler.config import CoveoTarget, LocalTarget, Settings, load_settings
from crawler.errors import PushError, SettingsError
from crawler.fieldrules import FieldDeclaration
from crawler.jsontypes import JSONObject
from crawler.pushapi.client import PushApiClient

if TYPE_CHECKING:  # the server loads only when the command runs against a local target (``_client``)
    from crawler.localapi import LocalPushAPI


def register(sub: Subparsers) -> None:
    p: argparse.ArgumentParser = sub.add_parser("fields", help="check declared index fields; create missing ones")
    p.add_argument("action", choices=["list", "sync"], help="list: compare with the index; sync: create missing")
    p.add_argument("sites", nargs="*", metavar="SITE", help="only these sites' declarations (default: all)")
    p.add_argument("--target", help="target name from settings.yaml")
    p.add_argument("--settings", help="settings file")
    p.set_defaults(func=run)


def declarations(settings: Settings, sites: list[str]) -> dict[str, FieldDeclaration]:
    """Every declared field; the same name declared differently by two sites is a settings error."""
    file = str(settings.source_file)
    found: dict[str, tuple[str, FieldDeclaration]] = {
        name: ("field_defaults", decl) for name, decl in settings.field_defaults.declare.items()
    }
    for site in sites or list(settings.sites):
        if site not in settings.sites:
            raise SettingsError(file, f"sites.{site}", f"a site defined in the file ({', '.join(settings.sites)})")
        for name, decl in settings.sites[site].fields.declare.items():
            where = f"sites.{site}.fields.declare.{name}"
            if name in found and found[name][1].index_spec(name) != decl.index_spec(name):
                raise SettingsError(file, where, f"the same declaration as {found[name][0]} (they differ)")
            found.setdefault(name, (where, decl))
    return {name: decl for name, (_, decl) in sorted(found.items())}


def index_field(client: PushApiClient, name: str) -> JSONObject | None:
    try:
        resp = client.request("GET", f"{client.platform_root}/indexes/fields/{name}", what=f"get field {name}")
    except PushError as exc:
        if exc.status == 404:
            return None
        raise
    return dict(resp.json())


def _client(settings: Settings, target_name: str | None) -> tuple[LocalPushAPI | None, PushApiClient]:
    _, target = settings.target_for(None, target_name)
    if isinstance(target, LocalTarget):
        from crawler.targets import start_local

        return start_local(settings, target)
    assert isinstance(target, CoveoTarget)
    from crawler.targets import coveo_client

    return None, coveo_client(settings, target)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.settings)
    declared = declarations(settings, args.sites)
    if not declared:
        print("no fields declared (add fields.declare to a site, or field_defaults.declare)")
        return 0
    server, client = _client(settings, args.target)
    try:
        missing, mismatched = [], []
        for name, decl in declared.items():
            existing = index_field(client, name)
            want = decl.index_spec(name)["type"]
            if existing is None:
                missing.append(name)
                state = "missing" if args.action == "list" else "created"
            elif str(existing.get("type", "")).upper() != want:
                mismatched.append(name)
                state = f"TYPE MISMATCH: index has {existing.get('type')}, settings declare {want}"
            else:
                state = "ok"
            print(f"  {name:<28} {want:<8} {state}")
        if args.action == "sync" and missing:
            body = [declared[n].index_spec(n) for n in missing]
            client.request(
                "POST", f"{client.platform_root}/indexes/fields/batch/create", json_body=body, what="create fields"
            )
    finally:
        if server is not None:
            server.stop()
    verb = "created" if args.action == "sync" else "missing"
    print(f"{len(declared)} declared · {len(missing)} {verb} · {len(mismatched)} type mismatch(es)")
    if mismatched:
        print("change the declaration or the index field by hand (a type change needs a rebuild)", file=sys.stderr)
    return 1 if mismatched or (args.action == "list" and missing) else 0
