"""Rendering JavaScript pages in headless Chromium through scrapy-playwright, only where needed.

``options`` (the ``render:`` model a connector's Options inherits), ``middleware`` (which requests go to the
browser: always, or auto after a plain fetch), ``browser`` (context recycling and the memory bound), and
``apply_settings`` below: what a connector's ``from_crawler`` calls to switch the download handler on.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.settings import SETTINGS_PRIORITIES

from connectors.render.options import RENDER_SLOT, RenderableOptions, RenderOptions, check_ready
from crawler.scrapytypes import SettingsDict

__all__ = ["RenderOptions", "RenderableOptions", "apply_settings", "check_ready", "fetch_blocked", "launch_args"]

HANDLER = "connectors.render.handler.PagePoolHandler"
MIDDLEWARE = "connectors.render.middleware.RenderMiddleware"
#: settings apply_settings builds from the crawl's own value (merged or added to), set at that value's priority
BUILT_ON_USERS = frozenset({"DOWNLOADER_MIDDLEWARES", "DOWNLOAD_HANDLERS", "DOWNLOAD_SLOTS", "CONCURRENT_REQUESTS"})
#: the features Playwright (1.65) disables on every launch (its chromiumSwitches). Chromium reads only the *last*
#: ``--disable-features`` switch, so ours repeats them: else adding one feature would turn all of these back on
#: (HttpsUpgrades among them). tests/integration/test_render_chromium.py fails when a Playwright upgrade disables
#: one more than this list says.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
#: RenderDocument: on every navigation of a tab, Chromium makes a new frame host, with its own widget and
#: compositor, in the renderer the tab already has, and drops the old one. Our tabs navigate page after page
#: (connectors.render.handler), so that set-up and teardown came with every rendered page: without it, Chromium
#: spends ~15 % less CPU per page (renderer, browser and GPU process alike; bench/render_chromium.py). Reusing the
#: frame is what Chromium did before the feature; nothing a page's script sees changes.
DISABLED_FEATURES = (*PLAYWRIGHT_DISABLED_FEATURES, "RenderDocument")
#: flags for a root, headless, offline Chromium: no sandbox (root), and no background calls home, which a
#: closed network refuses many at a time
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-features=" + ",".join(DISABLED_FEATURES),
]


#: the Blink settings Playwright (1.65) gives a headless Chromium: a mouse, which hovers. Chromium, again, reads
#: only the *last* ``--blink-settings`` switch, so NO_IMAGES repeats them: without them a page sees a device with
#: no pointer at all (``(pointer: none)``, ``(hover: none)``), and a site that serves touch devices another
#: layout or menu would be rendered as for one. tests/integration/test_render_chromium.py checks both.
PLAYWRIGHT_BLINK_SETTINGS = (
    "primaryHoverType=2",
    "availableHoverTypes=2",
    "primaryPointerType=4",
    "availablePointerTypes=4",
)
#: ``block: [image]``: the browser asks for no image at all (Blink's imagesEnabled setting). Failing each image
#: request at the DevTools protocol instead (as media, fonts and stylesheets are) paused it, sent it through the
#: driver to this process and back, and left a failed image in the page: measured on the documentation pages
#: (bench/render_chromium.py, variant images-by-fetch), 37 ms more of Chromium and driver CPU per page and 15 ms
#: more of this process's. What a page's script sees differs in one way: an image neither loads nor fails (no
#: ``load`` or ``error`` event; ``complete`` is false), as with images switched off in a browser's settings.
NO_IMAGES = "--blink-settings=" + ",".join((*PLAYWRIGHT_BLINK_SETTINGS, "imagesEnabled=false"))


def launch_args(render: RenderOptions) -> list[str]:
    """Chromium's command line switches for a site's render options."""
    return [*CHROMIUM_ARGS, NO_IMAGES] if "image" in render.block else list(CHROMIUM_ARGS)


def fetch_blocked(render: RenderOptions) -> list[str]:
    """The resource types the tab's DevTools session fails (connectors.render.direct.block): render.block
    but images, which the browser does not ask for (NO_IMAGES)."""
    return sorted(set(render.block) - {"image"})


def apply_settings(crawler: Crawler, options: object) -> None:
    """Switch a crawler to scrapy-playwright when its site renders (called from the spider's from_crawler,
    while the settings are still writable)."""
    render = getattr(options, "render", None)
    if not isinstance(render, RenderOptions) or not render.enabled:
        return
    blocked = set(render.block)
    values: SettingsDict = {
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": render.browser(),
            "headless": True,
            "args": launch_args(render),
        },
        # max_concurrent is PagePoolHandler's own semaphore: scrapy-playwright's per-context one is released only
        # when a tab closes, and parked tabs stay open (connectors.render.handler); this bound is never reached
        "PUSHCRAWL_RENDER_MAX_CONCURRENT": render.max_concurrent,
        "PUSHCRAWL_RENDER_NICE": render.nice,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2 * render.max_concurrent + 1,
        "PLAYWRIGHT_MAX_CONTEXTS": 2,  # the current generation and the one being closed
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": render.timeout_s * 1000,
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
        # the direct path (connectors.render.direct) fails these itself; scrapy-playwright's path by its hook (an
        # image never reaches either: NO_IMAGES)
        "PUSHCRAWL_RENDER_BLOCK": fetch_blocked(render),
        "PLAYWRIGHT_ABORT_REQUEST": (lambda req: req.resource_type in blocked) if blocked else None,
    }
    # Rendered requests have their own download slot of max_concurrent places (RENDER_SLOT), beside the site's
    # plain slot and on top of the crawl's CONCURRENT_REQUESTS: in the shared per-domain slot, renders (tens to
    # hundreds of times slower than a plain fetch) would hold most places and AutoThrottle would slow every
    # plain fetch to their latency. A site thus sees up to CONCURRENT_REQUESTS_PER_DOMAIN + max_concurrent.
    slots = dict(crawler.settings.getdict("DOWNLOAD_SLOTS"))
    slots[RENDER_SLOT] = {"concurrency": render.max_concurrent, **slots.get(RENDER_SLOT, {})}
    values["DOWNLOAD_SLOTS"] = slots
    values["CONCURRENT_REQUESTS"] = crawler.settings.getint("CONCURRENT_REQUESTS") + render.max_concurrent
    middlewares = dict(crawler.settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares[MIDDLEWARE] = 100  # near the engine: sees responses after decompression and redirects
    values["DOWNLOADER_MIDDLEWARES"] = middlewares
    # plain requests still go through Scrapy's own downloader: scrapy-playwright passes on requests without
    # meta["playwright"]
    values["DOWNLOAD_HANDLERS"] = {**crawler.settings.getdict("DOWNLOAD_HANDLERS"), "http": HANDLER, "https": HANDLER}
    for key, value in values.items():
        priority = SETTINGS_PRIORITIES["spider"]
        if key in BUILT_ON_USERS:
            # the site's own value (sites.SITE.scrapy, -s) is set at a higher priority before this runs, and a
            # value set below it is ignored: a site naming any downloader middleware crawled unrendered
            priority = max(crawler.settings.getpriority(key) or 0, priority)
        crawler.settings.set(key, value, priority=priority)
