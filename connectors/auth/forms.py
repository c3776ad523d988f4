"""Login forms and login walls, judged the same way by ``ping`` (requests) and by the crawl (Scrapy).

Pure functions over Scrapy responses (ping wraps its requests answers in ``HtmlResponse``), so both paths post
exactly the same form and agree on what a lost session looks like:

- ``login_request``: the POST of the login form, built by form2request (what Scrapy 2.13+ points to instead of
  its deprecated ``FormRequest.from_response``) from the fetched login page, so hidden fields (a CSRF token,
  a ``next`` target) are posted back as the page set them, and the form's own action, method and encoding
  are used; its ``to_scrapy`` and ``to_requests`` give the crawl and ping the same request;
- ``on_login_page``: this answer is the login wall — the login URL's path (after a redirect), a form with the
  configured password field (``form`` logins), or HTTP 401;
- ``logged_in``: not on the login wall, and ``check.selector`` / ``check.text`` found when configured.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from form2request import Request as FormSubmission
from form2request import form2request
from scrapy.http import HtmlResponse, Response, TextResponse

from connectors.auth.options import AuthOptions, FormLogin, login_path

#: the form that holds a password field, when ``form_selector`` does not name one
PASSWORD_FORM = "//form[.//input[@type='password']]"


class LoginError(Exception):
    """The site did not log us in; the message names the user (never the password) and what to check."""


def as_response(url: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> HtmlResponse:
    """A requests answer as a Scrapy response, so ping parses forms with the crawl's own code."""
    return HtmlResponse(url=url, body=body, status=status, headers=headers or {}, encoding="utf-8")


def login_request(page: Response, auth: FormLogin) -> FormSubmission:
    """The login submission built from the login page, hidden fields kept; LoginError when there is no form."""
    data = {auth.username_field: auth.username, auth.password_field: auth.password.get_secret_value()}
    data.update(auth.extra_fields)
    if not isinstance(page, TextResponse):
        raise LoginError(f"the login page {auth.login_url} is not HTML (HTTP {page.status}); check auth.login_url")
    forms = page.css(auth.form_selector) if auth.form_selector else page.xpath(PASSWORD_FORM)
    if not forms:
        where = f"form {auth.form_selector!r}" if auth.form_selector else "form with a password field"
        raise LoginError(
            f"the login page {auth.login_url} (HTTP {page.status}, {page.url}) has no {where}; check "
            "auth.login_url and auth.form_selector"
        )
    try:
        return form2request(forms[0], data, click=False)
    except ValueError as exc:  # not a <form>, or an action form2request cannot submit
        raise LoginError(f"cannot post the login form of {auth.login_url} ({exc}); check auth.form_selector") from None


def fill_steps(auth: FormLogin) -> list[tuple[str, str]]:
    """What a rendered login types: (CSS selector of the field, value), before clicking ``submit_selector``."""
    fields = {auth.username_field: auth.username, auth.password_field: auth.password.get_secret_value()}
    fields.update(auth.extra_fields)
    return [(f"[name='{name}']", value) for name, value in fields.items()]


def on_login_page(response: Response, auth: AuthOptions) -> bool:
    """Is this answer the login wall rather than the page asked for?"""
    if response.status == 401:
        return True
    path = login_path(auth)
    if path is not None and urlsplit(response.url).path == path:
        return True
    if isinstance(auth, FormLogin) and isinstance(response, TextResponse):
        field = auth.password_field.replace("'", "")
        return bool(response.xpath(f"//form//input[@type='password'][@name='{field}']"))
    return False


def logged_in(response: Response, auth: FormLogin) -> bool:
    """Does this answer prove the session is logged in (see ``SessionCheck``)?"""
    if response.status >= 400 or on_login_page(response, auth):
        return False
    if not isinstance(response, TextResponse):
        return not (auth.check.selector or auth.check.text)
    if auth.check.selector and not response.css(auth.check.selector):
        return False
    return not (auth.check.text and auth.check.text not in response.text)


def refused(auth: FormLogin, url: str) -> LoginError:
    return LoginError(
        f"the site at {auth.login_url} refused the login of {auth.user}: after posting the form, {url} is not "
        "logged in (still the login page, or auth.check not met); check auth.username and auth.password"
    )
