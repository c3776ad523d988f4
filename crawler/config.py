"""settings.yaml → validated pydantic models, with errors that name the file, the key path and the expectation.

Loading order: read YAML → interpolate ``${VAR}`` / ``${VAR:-default}`` from the environment (values that
come from the environment are registered as secrets when their key looks secret) → apply ``-s KEY=VALUE``
overrides → validate the models → validate each site's connector options with the connector's own model.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from crawler import defaults, secrets
from crawler.alerts import AlertsConfig
from crawler.distributed.config import DistributedConfig, check_password_refs
from crawler.errors import PushcrawlError, SettingsError
from crawler.fieldrules import ExtractConfig, FieldsConfig
from crawler.jsontypes import JSONData, JSONObject
from crawler.scrapytypes import SettingsDict

if TYPE_CHECKING:  # names only: connectors load when a site is resolved (connector_options)
    from connectors.base import Connector, ConnectorOptions

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-(.*?))?\}")
_SECRET_KEY = re.compile(r"(password|secret|token|api_key|apikey|credential)", re.IGNORECASE)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocalTarget(_Model):
    """The embedded local Push API: started on demand by ``crawl``; data kept in ``data_dir``."""

    kind: Literal["local"]
    data_dir: Path = Path(defaults.LOCAL_DATA_DIR)
    organization_id: str = defaults.LOCAL_ORG_ID
    source: str | None = None  # default: one source per site, named after the site
    # where a crawl runs it: a child process (its ingest off the crawl's GIL, crawler/localproc.py) or a thread
    process: Literal["child", "thread"] = "child"


class CoveoTarget(_Model):
    """A Coveo organization (or anything speaking its API: a proxy, or ``pushcrawl serve``)."""

    kind: Literal["coveo"]
    region: Literal["us", "ca", "eu", "au", "hipaa"] = "us"
    base_url: str | None = None  # Push API host override, e.g. http://127.0.0.1:8090
    platform_url: str | None = None  # Platform API host override
    organization_id: str
    source: str | None = None
    source_id: str | None = None
    api_key: SecretStr
    security_provider: str | None = None


Target = Annotated[LocalTarget | CoveoTarget, Field(discriminator="kind")]


class IdentitySpec(_Model):
    identity: str = Field(min_length=1)
    type: Literal["User", "Group", "VirtualGroup", "Unknown"] = "Group"
    provider: str | None = None  # security provider; default: the first one attached to the source


class AclCondition(_Model):
    """When a security rule applies: every condition given must hold."""

    url_prefix: list[str] | None = None  # the item's URI (or clickable URI) starts with one of these
    metadata: dict[str, list[str]] | None = None  # field → values (case-insensitive); any value matches

    @field_validator("url_prefix", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("metadata", mode="before")
    @classmethod
    def _values(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _something(self) -> AclCondition:
        if not self.url_prefix and not self.metadata:
            raise ValueError("a condition: url_prefix and/or metadata")
        return self


class SecurityRule(_Model):
    """Add or deny identities on the items that match ``when`` (deny beats allow)."""

    when: AclCondition
    allow: list[IdentitySpec] = Field(default_factory=list)
    deny: list[IdentitySpec] = Field(default_factory=list)
    private: bool = False  # remove anonymous access (``everyone`` mode): only ``allow`` may see the item

    @model_validator(mode="after")
    def _effect(self) -> SecurityRule:
        if not (self.allow or self.deny or self.private):
            raise ValueError("a rule needs 'allow', 'deny' or 'private: true'")
        if self.private and not self.allow:
            raise ValueError("'private: true' needs 'allow' (otherwise nobody could see the items)")
        return self


class SecurityConfig(_Model):
    """The Push source's content-security option, per site (see docs/fields-and-permissions.md)."""

    mode: Literal["everyone", "specific", "content_system"] = "everyone"
    allowed: list[IdentitySpec] = Field(default_factory=list)  # specific: who may see every item
    denied: list[IdentitySpec] = Field(default_factory=list)  # specific: who may never see them
    rules: list[SecurityRule] = Field(default_factory=list)  # conditional additions, any mode
    # over the 5,000-permission limit: drop the item, or collapse allowed/denied lists into one group each
    over_limit: Literal["drop", "collapse"] = "drop"

    @model_validator(mode="after")
    def _mode(self) -> SecurityConfig:
        if self.mode == "specific" and not self.allowed:
            raise ValueError("mode 'specific' needs at least one identity under 'allowed'")
        if self.mode != "specific" and (self.allowed or self.denied):
            raise ValueError(f"'allowed'/'denied' apply to mode 'specific' only (mode is {self.mode!r}); use 'rules'")
        return self


class PushConfig(_Model):
    """``push:`` — batching, concurrency, retries and the breaker (defaults and their reasons: defaults.py)."""

    batch_max_bytes: int = Field(defaults.BATCH_MAX_BYTES, gt=0, le=defaults.CONTAINER_LIMIT_BYTES)
    batch_max_items: int = Field(defaults.BATCH_MAX_ITEMS, gt=0)
    # largest item (compressed content) sent through a file container; the contract's 256 MB, lower it to test
    container_max_bytes: int = Field(defaults.CONTAINER_LIMIT_BYTES, gt=0, le=defaults.CONTAINER_LIMIT_BYTES)
    max_in_flight: int = Field(defaults.MAX_IN_FLIGHT, gt=0, le=64)
    timeout_s: float = Field(defaults.PUSH_TIMEOUT_S, gt=0)
    retry_max_attempts: int = Field(defaults.RETRY_MAX_ATTEMPTS, ge=1)
    retry_backoff_base_s: float = Field(defaults.RETRY_BACKOFF_BASE_S, ge=0)
    retry_backoff_max_s: float = Field(defaults.RETRY_BACKOFF_MAX_S, ge=0)
    breaker_window: int = Field(defaults.BREAKER_WINDOW, ge=1)
    breaker_error_ratio: float = Field(defaults.BREAKER_ERROR_RATIO, gt=0, le=1)
    breaker_min_failures: int = Field(defaults.BREAKER_MIN_FAILURES, ge=1)
    set_source_status: bool = True


class SiteConfig(_Model):
    connector: str
    options: JSONObject = Field(default_factory=dict)
    schedule: str | None = None
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    fields: FieldsConfig = Field(default_factory=FieldsConfig)
    extract: ExtractConfig = Field(default_factory=ExtractConfig)
    target: str | None = None  # a site may push to another target than the default
    source: str | None = None  # a site may push to its own source of the target
    max_deletions: float | None = None  # ratio (<1) or absolute count (>=1); default 10 %
    scrapy: SettingsDict = Field(default_factory=dict)  # extra Scrapy settings for this site
    distributed: DistributedConfig | None = None  # this site's Redis for --workers / `pushcrawl worker`

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"a cron expression like '*/30 * * * *' (got {value!r})")
        return value


class Settings(_Model):
    target: str = "local"
    # ignore: the lambda's dict[str, LocalTarget] is a valid dict[str, Target]; dict invariance refuses it
    targets: dict[str, Target] = Field(default_factory=lambda: {"local": LocalTarget(kind="local")})  # type: ignore[arg-type]
    sites: dict[str, SiteConfig] = Field(default_factory=dict)
    # ignore: pydantic's Field overloads infer Never for this factory (a plugin-less mypy quirk); PushConfig() is valid
    push: PushConfig = Field(default_factory=PushConfig)  # type: ignore[arg-type]
    state_dir: Path = Path(defaults.STATE_DIR)
    keep_runs: int = Field(defaults.KEEP_RUNS, ge=1)  # run history kept per site and target (crawler.state)
    field_defaults: FieldsConfig = Field(default_factory=FieldsConfig)  # declarations and rules shared by all sites
    alerts: AlertsConfig | None = None  # webhook/command when a run fails, items are rejected, documents fall
    distributed: DistributedConfig | None = None  # Redis for scaled-out runs (crawler.distributed); per site too

    # where the settings were read from; relative paths resolve against its folder
    source_file: Path = Field(default=Path(defaults.SETTINGS_FILE), exclude=True)

    def resolve_path(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.source_file.parent / path).resolve()

    def target_for(self, site: str | None = None, override: str | None = None) -> tuple[str, LocalTarget | CoveoTarget]:
        name = override or (self.sites[site].target if site and site in self.sites else None) or self.target
        if name not in self.targets:
            raise SettingsError(
                str(self.source_file),
                "target" if override is None else "--target",
                f"a target defined under 'targets:' ({', '.join(sorted(self.targets))}); got {name!r}",
            )
        return name, self.targets[name]


def interpolate(node: JSONData, file: str, path: str = "", skip: str | None = None) -> JSONData:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of a YAML tree.

    ``skip`` names a top-level key whose references are left unresolved: a command that never opens a target
    (``pushcrawl runs`` reads local history only) must not fail on, or even read, the targets' secrets.
    """
    if isinstance(node, dict):
        return {
            k: v if not path and k == skip else interpolate(v, file, f"{path}.{k}" if path else str(k), skip)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [interpolate(v, file, f"{path}[{i}]", skip) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node

    def repl(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        value = os.environ.get(var)
        if value is None:
            if default is None:
                raise SettingsError(
                    file,
                    path,
                    f"environment variable {var} is not set (export {var}=… or use ${{{var}:-default}})",
                )
            value = default
        if _SECRET_KEY.search(path):
            secrets.register(value)
        return value

    return _ENV_REF.sub(repl, node)


def check_secret_refs(data: JSONObject, file: str) -> None:
    """Refuse a literal API key in settings.yaml: secrets come from the environment only (DESIGN.md rule 4)."""
    targets = data.get("targets")
    if not isinstance(targets, dict):
        return
    for name, target in targets.items():
        key = target.get("api_key") if isinstance(target, dict) else None
        if key is not None and not (isinstance(key, str) and _ENV_REF.fullmatch(key.strip())):
            raise SettingsError(
                file,
                f"targets.{name}.api_key",
                "a reference to an environment variable such as ${COVEO_API_KEY}, never the key itself "
                "(a literal key in a file ends up in version control and backups); export the key and "
                "write api_key: ${COVEO_API_KEY}",
            )


def check_auth_refs(data: JSONObject, file: str) -> None:
    """Refuse a literal secret in a site's ``auth:`` (connectors.auth): the password, header value and cookies
    come from the environment, like API keys (``value: "Bearer ${INTRANET_TOKEN}"`` is a reference)."""
    sites = data.get("sites")
    for name, site in (sites or {}).items() if isinstance(sites, dict) else ():
        options = site.get("options") if isinstance(site, dict) else None
        auth = options.get("auth") if isinstance(options, dict) else None
        if not isinstance(auth, dict):
            continue
        values = {key: auth.get(key) for key in ("password", "value")}
        cookies = auth.get("cookies")
        values.update({f"cookies.{k}": v for k, v in cookies.items()} if isinstance(cookies, dict) else {})
        for key, value in values.items():
            if value is not None and not (isinstance(value, str) and _ENV_REF.search(value)):
                raise SettingsError(
                    file,
                    f"sites.{name}.options.auth.{key}",
                    "a reference to an environment variable such as ${INTRANET_PASSWORD}, never the secret itself "
                    "(a literal in a file ends up in version control and backups)",
                )


#: ``-s NAME=VALUE`` with an upper-case name is a Scrapy setting (DOWNLOAD_DELAY, CONCURRENT_REQUESTS...)
SCRAPY_SETTING = re.compile(r"[A-Z][A-Z0-9_]*")


def apply_overrides(data: JSONObject, overrides: list[str], file: str) -> None:
    """Apply ``-s dotted.key=value`` overrides; values are parsed as YAML scalars (``-s push.max_in_flight=2``).

    The rule of settings.yaml holds here too: an API key is a ``${VAR}`` reference (quote it from the shell),
    never the key itself, which would sit in shell history and ``ps`` output. Any other secret-looking value
    is registered for redaction before anything can print it.
    """
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            shown = item if "=" not in item else key + "=" + secrets.MASK
            raise SettingsError("command line", f"-s {shown}", "KEY=VALUE, e.g. -s push.batch_max_items=500")
        if SCRAPY_SETTING.fullmatch(key):
            # a Scrapy setting name (Scrapy users' habit: -s DOWNLOAD_DELAY=1) goes to every site's `scrapy:`
            # block, the layer a site's own Scrapy settings live in
            for name, site in (data.get("sites") or {}).items():
                if not isinstance(site, dict):
                    raise SettingsError(file, f"sites.{name}", "a mapping (connector:, options:, ...)")
                block = site.setdefault("scrapy", {})
                if not isinstance(block, dict):
                    raise SettingsError(file, f"sites.{name}.scrapy", "a mapping of Scrapy setting names to values")
                block[key] = yaml.safe_load(raw)
            continue
        if _SECRET_KEY.search(key):
            if key.rsplit(".", 1)[-1] == "api_key" and not _ENV_REF.fullmatch(raw.strip()):
                secrets.register(raw.strip())
                raise SettingsError(
                    "command line",
                    f"-s {key}",
                    "a reference to an environment variable such as '${COVEO_API_KEY}' (single-quoted so the "
                    "shell leaves it alone), never the key itself (it would stay in shell history and in ps)",
                )
            raw = interpolate(raw, "command line", key)
            secrets.register(raw.strip())
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SettingsError(file, key, f"{part!r} is not a mapping, cannot set a key below it")
        node[parts[-1]] = yaml.safe_load(raw)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("local", "coveo") and out.startswith("targets."):
            continue  # discriminator tag pydantic adds to the path: not a key the user wrote
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_error(file: str, exc: ValidationError, prefix: str = "") -> SettingsError:
    """Turn a pydantic error into one SettingsError listing every problem with its key path."""
    problems = []
    for err in exc.errors():
        key = _format_loc(err["loc"])
        key = f"{prefix}.{key}" if prefix and key else (prefix or key)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "this key is required"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling against the README's configuration reference)"
        problems.append((key, msg))
    first_key, first_msg = problems[0]
    more = "".join(f"; {k}: {m}" for k, m in problems[1:])
    return SettingsError(file, first_key, first_msg + more)


def find_settings_file(explicit: str | None) -> Path:
    candidate = explicit or os.environ.get("PUSHCRAWL_SETTINGS") or defaults.SETTINGS_FILE
    path = Path(candidate)
    if not path.is_file():
        raise SettingsError(str(path), "", "file not found (run from your project folder, or pass --settings FILE)")
    return path


def load_settings(
    explicit: str | None = None, overrides: list[str] | None = None, *, resolve_targets: bool = True
) -> Settings:
    """Read, interpolate, override and validate settings.yaml. Raises SettingsError with a clear message.

    ``resolve_targets=False`` leaves ``${VAR}`` references under ``targets:`` as written (and ignores
    ``alerts:``), for commands that never open a target and so need none of its secrets.
    """
    path = find_settings_file(explicit)
    file = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SettingsError(file, where, f"valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise SettingsError(file, "", "a YAML mapping at the top level (target:, targets:, sites:)")
    check_secret_refs(data, file)
    check_auth_refs(data, file)
    check_password_refs(data, file)
    if not resolve_targets:
        data.pop("alerts", None)  # only a run sends alerts; their secrets are as unneeded here as the targets'
    data = interpolate(data, file, skip=None if resolve_targets else "targets")
    apply_overrides(data, overrides or [], file)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise validation_error(file, exc) from None
    settings.source_file = path.resolve()
    settings.target_for()  # the default target must exist
    for name, site in settings.sites.items():
        if site.target is not None and site.target not in settings.targets:
            raise SettingsError(
                file, f"sites.{name}.target", f"one of the targets defined ({', '.join(settings.targets)})"
            )
    return settings


def require_site(settings: Settings, name: str) -> None:
    """SettingsError naming the known sites when ``name`` is not one of them."""
    if name not in settings.sites:
        known = ", ".join(sorted(settings.sites)) or "none"
        raise SettingsError(str(settings.source_file), f"sites.{name}", f"a site defined in the file (known: {known})")


# Any: a connector loaded by name; its options type is known at run time
def connector_options(settings: Settings, site_name: str) -> tuple[type[Connector[Any]], ConnectorOptions]:
    """Load a site's connector class and validate its options; errors name the settings key."""
    from connectors import registry  # imported here: connectors depend on crawler, not the other way

    file = str(settings.source_file)
    if site_name not in settings.sites:
        known = ", ".join(sorted(settings.sites)) or "none defined"
        raise SettingsError(file, f"sites.{site_name}", f"a site defined under 'sites:' (known: {known})")
    site = settings.sites[site_name]
    try:
        cls = registry.load(site.connector, base_dir=settings.source_file.parent)
    except PushcrawlError as exc:
        raise SettingsError(file, f"sites.{site_name}.connector", str(exc)) from None
    try:
        options = cls.Options.model_validate(site.options, context={"base_dir": settings.source_file.parent})
    except ValidationError as exc:
        raise validation_error(file, exc, prefix=f"sites.{site_name}.options") from None
    if site.security.mode == "content_system" and not cls.supports_permissions:
        raise SettingsError(
            file,
            f"sites.{site_name}.security.mode",
            f"'everyone' or 'specific': connector {site.connector!r} supplies no permissions for content_system",
        )
    return cls, options
