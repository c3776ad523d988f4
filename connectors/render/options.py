"""``render:`` — which pages a connector fetches through headless Chromium, and within which bounds.

A connector's Options model takes rendering by inheriting ``RenderableOptions`` (the shipped ``web`` and
``sitemap`` connectors do; a user's connector may too). Rendering itself is a download concern
(connectors.render.middleware): the spider's code does not change, and pipelines never know whether a page
was rendered.
"""

from __future__ import annotations

import re
import shutil
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.patterns import RegexList
from crawler.errors import ConnectorError

#: what Debian's chromium packages install; Playwright's own browser download cannot work on offline machines.
#: The headless shell first (Debian's chromium-headless-shell, the same Chromium without the desktop browser's
#: layers, as Playwright itself uses for headless): about half the CPU per rendered page (bench/render.py)
DEFAULT_BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "install Debian's Chromium (`apt-get install chromium-headless-shell`, or `chromium`) or set render.executable_path"
)

BLOCKABLE = ("image", "media", "font", "stylesheet")
#: the Scrapy download slot of every rendered request (connectors.render.apply_settings sizes it): rendered pages
#: do not take the site's plain slot, where one slow render would hold a place a plain fetch needs
RENDER_SLOT = "pushcrawl-render"


class RenderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["never", "always", "auto"] = Field(
        default="never",
        description="never: plain requests; always: every page matching url_patterns through the browser; auto: "
        "fetch plainly, render only pages whose HTML has scripts and under auto_min_text characters of main text",
    )
    url_patterns: RegexList = Field(default_factory=list, description="regexes; empty = every page")
    wait_for: str = Field(default="load", description="'load', 'networkidle', or a CSS selector that must appear")
    timeout_s: float = Field(
        default=20.0, gt=0, le=300, description="per page; over it the page is dropped (render_timeout)"
    )
    block: list[str] = Field(
        default_factory=lambda: ["image", "media", "font"], description="resource types not loaded"
    )
    max_pages_per_context: int = Field(
        default=100, ge=1, description="a browser context is recycled after this many pages"
    )
    max_concurrent: int = Field(default=4, ge=1, le=32, description="pages rendered at once")
    max_browser_mb: int = Field(
        default=1024, ge=128, description="the browser is restarted when its processes use more"
    )
    nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="how far below the crawl's the browser's CPU priority is (0: the same); see docs/rendering.md",
    )
    auto_min_text: int = Field(
        default=200, ge=1, description="auto: main text shorter than this (with scripts) → render"
    )
    executable_path: str | None = Field(default=None, description="the Chromium binary (default: chromium on PATH)")

    @field_validator("block")
    @classmethod
    def _block(cls, kinds: list[str]) -> list[str]:
        for kind in kinds:
            if kind not in BLOCKABLE:
                raise ValueError(f"resource types among {', '.join(BLOCKABLE)} (got {kind!r})")
        return kinds

    @property
    def enabled(self) -> bool:
        return self.mode != "never"

    def wanted(self, url: str) -> bool:
        return not self.url_patterns or any(re.search(p, url) for p in self.url_patterns)

    def browser(self) -> str:
        """The Chromium binary, or ConnectorError saying how to install it (no silent unrendered fallback)."""
        if self.executable_path:
            found = shutil.which(self.executable_path)
            if not found:
                raise ConnectorError(f"render.executable_path {self.executable_path!r} is not an executable")
            return found
        for name in DEFAULT_BROWSERS:
            found = shutil.which(name)
            if found:
                return found
        raise ConnectorError(
            f"this site renders pages (render.mode: {self.mode}) but no Chromium was found; {INSTALL_HINT}"
        )


class RenderableOptions(BaseModel):
    """Mixin for a connector's Options: adds ``render:``."""

    render: RenderOptions = Field(default_factory=RenderOptions)


def check_ready(options: object) -> None:
    """For ``ping``: a site that renders needs scrapy-playwright and a Chromium binary."""
    render = getattr(options, "render", None)
    if not isinstance(render, RenderOptions) or not render.enabled:
        return
    render.browser()
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        raise ConnectorError(
            "this site renders pages but scrapy-playwright is not installed; `pip install scrapy-playwright`"
        ) from None
