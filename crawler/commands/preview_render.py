"""``pushcrawl preview SITE URL --render``: one page's main text as fetched plainly and as rendered, side by side.

For deciding whether a site needs ``render:`` and which ``wait_for`` it needs: the page is fetched once with a
plain HTTP GET and once in headless Chromium (the site's ``render:`` options: browser, wait_for, timeout,
blocked resources), and both go through the same main-text extraction the pipeline uses. The footer says what
``render: auto`` would decide for the plain fetch. Nothing is pushed or recorded.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import Literal, TextIO

import requests
from lxml import html as lxml_html

from connectors.render import RenderOptions, fetch_blocked, launch_args
from connectors.render.middleware import main_text_length
from crawler.errors import ConnectorError
from pipelines.extract import main_text


def _text(body: str, how: str) -> str:
    try:
        return main_text(lxml_html.fromstring(body), how)
    except (ValueError, lxml_html.etree.ParserError):
        return ""


def rendered_html(url: str, render: RenderOptions) -> str:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    timeout = render.timeout_s * 1000
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=render.browser(), headless=True, args=launch_args(render))
        try:
            page = browser.new_page()
            blocked = set(fetch_blocked(render))  # images: not asked for at all (launch_args)
            if blocked:
                page.route(
                    "**/*", lambda route: route.abort() if route.request.resource_type in blocked else route.continue_()
                )
            until: Literal["load", "networkidle"] = "networkidle" if render.wait_for == "networkidle" else "load"
            try:
                page.goto(url, wait_until=until, timeout=timeout)
                if render.wait_for not in ("load", "networkidle"):
                    page.wait_for_selector(render.wait_for, state="attached", timeout=timeout)
            except PlaywrightError as exc:
                raise ConnectorError(f"rendering {url} failed: {str(exc).splitlines()[0]}") from None
            return str(page.content())
        finally:
            browser.close()


def show(url: str, render: RenderOptions, how: str, out: TextIO) -> int:
    try:
        plain = requests.get(url, headers={"Accept": "text/html,*/*;q=0.8"}, timeout=render.timeout_s)
    except requests.RequestException as exc:
        raise ConnectorError(f"cannot fetch {url}: {exc}") from None
    raw_html = plain.text
    rendered = rendered_html(url, render)
    raw, done = _text(raw_html, how), _text(rendered, how)
    width = max(40, (shutil.get_terminal_size((120, 24)).columns - 3) // 2)
    left = textwrap.wrap(raw, width) or ["(no main text)"]
    right = textwrap.wrap(done, width) or ["(no main text)"]
    out.write(f"{'plain fetch (HTTP ' + str(plain.status_code) + ')':<{width}} | rendered in Chromium\n")
    out.write(f"{'-' * width}-+-{'-' * width}\n")
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        out.write(f"{a:<{width}} | {b}\n")
    length, has_script = main_text_length(raw_html)
    would = has_script and length < render.auto_min_text
    out.write(
        f"\nmain text: {len(raw):,} characters plain, {len(done):,} rendered. render: auto would "
        f"{'render' if would else 'keep the plain fetch of'} this page "
        f"({'has' if has_script else 'no'} <script>, {length} characters of main text, "
        f"auto_min_text {render.auto_min_text}).\n"
    )
    return 0


def render_options(site_options: object) -> RenderOptions:
    """The site's render options, or the defaults with mode auto when the connector has none."""
    render = getattr(site_options, "render", None)
    return render if isinstance(render, RenderOptions) else RenderOptions(mode="auto")
