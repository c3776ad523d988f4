"""``auth:`` — how the ``web`` and ``sitemap`` connectors log in to a site, as one tagged pydantic model.

``kind`` picks the model (a pydantic discriminator, so a typo in a field of one kind is an error naming that
kind): ``basic`` (HTTP basic), ``header`` (a bearer token or any custom header), ``cookies`` (session cookies
copied from a browser) and ``form`` (a login form: fetched, its hidden fields and CSRF token kept, the
credentials posted — or filled in the rendered page with ``render: true``). Every secret is a ``SecretStr``
registered with crawler.secrets when it loads, so it is masked in logs, reports and errors; settings.yaml
must give it as a ``${ENV}`` reference (crawler.config refuses a literal).

Credentials go only to ``hosts``: the hosts of the start (or sitemap) URLs and of the login URL, plus those
listed. A request to any other host — an offsite link, a redirect elsewhere — is sent without them.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.patterns import RegexList
from crawler import secrets

#: links a crawler must never follow while logged in: fetching one ends the session
DEFAULT_SKIP = [r"(?i)/(log-?out|sign-?out|logoff)\b"]


def _registered(value: SecretStr) -> SecretStr:
    secrets.register(value.get_secret_value())
    return value


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hosts: list[str] = Field(
        default_factory=list, description="more host names (beyond the start/sitemap URLs') that get credentials"
    )
    skip: RegexList = Field(
        default_factory=lambda: list(DEFAULT_SKIP), description="URLs never fetched while logged in (logout links)"
    )

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        return [h.strip().lower() for h in hosts if h.strip()]

    @property
    def user(self) -> str:
        """Who logs in, for messages (never a secret)."""
        return "the configured credentials"


class BasicLogin(_Auth):
    kind: Literal["basic"]
    username: str
    password: SecretStr

    @field_validator("password")
    @classmethod
    def _reg(cls, value: SecretStr) -> SecretStr:
        return _registered(value)

    @property
    def user(self) -> str:
        return f"user {self.username!r}"


class HeaderLogin(_Auth):
    """``name: value`` on every request to the site: ``Authorization: Bearer ${TOKEN}`` (the default name), or a
    custom header such as ``X-Api-Key``."""

    kind: Literal["header"]
    name: str = Field(default="Authorization", pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
    value: SecretStr

    @field_validator("value")
    @classmethod
    def _reg(cls, value: SecretStr) -> SecretStr:
        return _registered(value)

    @property
    def user(self) -> str:
        return f"the {self.name} header"


class CookiesLogin(_Auth):
    """Session cookies taken from a logged-in browser; they cannot be renewed, so a lost session fails the run."""

    kind: Literal["cookies"]
    cookies: dict[str, SecretStr] = Field(min_length=1)
    #: where the site sends a visitor whose session is gone (its path marks a lost session); optional
    login_url: str | None = None

    @field_validator("cookies")
    @classmethod
    def _reg(cls, cookies: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for value in cookies.values():
            _registered(value)
        return cookies

    @property
    def user(self) -> str:
        return f"the cookies {', '.join(sorted(self.cookies))}"


class SessionCheck(BaseModel):
    """What proves a session is logged in. Without ``selector`` or ``text``: not being sent to the login page."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="a page fetched after login to prove it (default: the answer)")
    selector: str | None = Field(default=None, description="a CSS selector found only when logged in")
    text: str | None = Field(default=None, description="text found only when logged in")


class FormLogin(_Auth):
    kind: Literal["form"]
    login_url: str = Field(description="the page with the login form")
    username: str
    password: SecretStr
    username_field: str = "username"
    password_field: str = "password"
    form_selector: str | None = Field(default=None, description="CSS of the form (default: the one with a password)")
    extra_fields: dict[str, str] = Field(default_factory=dict, description="more fields posted with the form")
    render: bool = Field(default=False, description="fill the form in the rendered page (Chromium) and click submit")
    submit_selector: str = Field(default="[type=submit]", description="render: what is clicked to log in")
    check: SessionCheck = Field(default_factory=SessionCheck)
    max_relogins: int = Field(default=3, ge=0, description="logins again after a lost session; past it the run stops")

    @field_validator("password")
    @classmethod
    def _reg(cls, value: SecretStr) -> SecretStr:
        return _registered(value)

    @field_validator("login_url")
    @classmethod
    def _http(cls, url: str) -> str:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ValueError(f"an absolute http(s) URL (got {url!r})")
        return url

    @property
    def user(self) -> str:
        return f"user {self.username!r}"


AuthOptions = Annotated[BasicLogin | HeaderLogin | CookiesLogin | FormLogin, Field(discriminator="kind")]


class AuthenticatedOptions(BaseModel):
    """Mixin for a connector's Options: adds ``auth:`` (none by default)."""

    auth: AuthOptions | None = None


def login_path(auth: AuthOptions) -> str | None:
    """The path of the site's login page, which marks a lost session and is never indexed."""
    url = getattr(auth, "login_url", None)
    return (urlsplit(url).path or "/") if url else None
