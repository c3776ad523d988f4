"""What makes a rendered page cheaper inside Chromium, checked in real Chromium: the features we disable
(connectors.render.CHROMIUM_ARGS) keep every one Playwright disables, and the Blink settings that switch images off
keep Playwright's headless device (a mouse that hovers); pages whose content needs the frames a tab
produces (built in ``requestAnimationFrame``, by an ``IntersectionObserver`` once laid out, or when a CSS
animation ends) still render in tabs that navigate page after page (connectors.render.handler); and the DOM
read through DevTools (connectors.render.dom) is the very string ``page.content()`` gives, even on a page that
tampers with the serializers, in a tab that navigates from page to page."""

from __future__ import annotations

import asyncio

import psutil
import pytest

from connectors.render import CHROMIUM_ARGS, RenderOptions, dom, launch_args
from tests.fixtures.base import FixtureServer, Reply, Request
from tests.fixtures.chromium import NEEDS_CHROMIUM
from tests.fixtures.crawl import run_connector

pytestmark = [pytest.mark.integration, pytest.mark.browser, NEEDS_CHROMIUM]

PAGES = 3  # of each kind: with max_concurrent 2, most pages are rendered by a tab that navigates again
#: text written two animation frames after the page's script ran
RAF = (
    "<!doctype html><html><head><title>{name}</title><script>requestAnimationFrame(()=>requestAnimationFrame(()=>"
    "{{document.getElementById('root').innerHTML='<main><h1>{name}</h1><p>'+'drawn in a frame for {name} '"
    ".repeat(20)+'</p></main>';}}));</script></head><body><div id='root'></div></body></html>"
)
#: text written once the (laid out, visible) placeholder intersects the viewport
OBSERVED = (
    "<!doctype html><html><head><title>{name}</title></head><body><div id='root' style='height:10px'></div><script>"
    "new IntersectionObserver((es,o)=>{{if(es[0].isIntersecting){{o.disconnect();document.getElementById('root')"
    ".innerHTML='<main><h1>{name}</h1><p>'+'seen in the viewport by {name} '.repeat(20)+'</p></main>';}}}})"
    ".observe(document.getElementById('root'));</script></body></html>"
)

#: text written when a CSS animation (run by frames like any other) has ended
ANIMATED = (
    "<!doctype html><html><head><title>{name}</title><style>@keyframes grow{{from{{width:1px}}to{{width:50px}}}}"
    "#root{{animation:grow 60ms 2}}</style></head><body><div id='root'>x</div><script>document.getElementById('root')"
    ".addEventListener('animationend',()=>{{document.getElementById('root').innerHTML='<main><h1>{name}</h1><p>'+"
    "'animated to the end by {name} '.repeat(20)+'</p></main>';}});</script></body></html>"
)

#: pages whose HTML must read the same both ways: no doctype (quirks), a legacy doctype with public and system
#: ids, text outside ASCII, and a page whose own script replaces the serializers (in its world, not in ours)
READ = {
    "/quirks": "<html><head><title>q</title></head><body><p>no doctype &amp; quirks</p></body></html>",
    "/legacy": (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html><body><p>Grüße, 東京 — ok</p></body></html>'
    ),
    "/tampered": (
        "<!doctype html><html><head><script>Object.defineProperty(Element.prototype,'outerHTML',{get(){return "
        "'<p>fake</p>'}});window.XMLSerializer=function(){this.serializeToString=()=>'<!fake>'};</script></head>"
        "<body><main id='m'></main><script>document.getElementById('m').textContent='written by script'"
        "</script></body></html>"
    ),
}


KINDS = {"raf": RAF, "seen": OBSERVED, "anim": ANIMATED}


class FrameSite(FixtureServer):
    def handle(self, request: Request) -> Reply:
        if request.path == "/sitemap.xml":
            urls = [f"{self.base_url}/{kind}/{n}" for kind in KINDS for n in range(PAGES)]
            locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
            xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            return Reply(200, xml, "application/xml")
        if request.path in READ:
            return Reply(200, READ[request.path], "text/html; charset=utf-8")
        kind, _, n = request.path.strip("/").partition("/")
        if kind in KINDS:
            page = KINDS[kind].format(name=f"{kind}{n}")
            return Reply(200, page, "text/html; charset=utf-8")
        return Reply(404, "not found", "text/plain")


def test_pages_built_in_animation_frames_by_an_observer_or_an_animation_render_in_reused_tabs() -> None:
    with FrameSite() as site:
        result = run_connector(
            "sitemap",
            {
                "sitemap_urls": [f"{site.base_url}/sitemap.xml"],
                "render": {"mode": "always", "max_concurrent": 2, "wait_for": "main"},
            },
            settings={"CONCURRENT_REQUESTS": 4},
        )
    texts = {d.removeprefix(site.base_url): str(i.get("html") or "") for d, i in result.documents().items()}
    for n in range(PAGES):
        assert f"drawn in a frame for raf{n} " in texts[f"/raf/{n}"]
        assert f"seen in the viewport by seen{n} " in texts[f"/seen/{n}"]
        assert f"animated to the end by anim{n} " in texts[f"/anim/{n}"]
    stats = result.stats
    assert stats["pushcrawl/render/rendered"] == len(KINDS) * PAGES
    assert stats.get("pushcrawl/render/tabs_reused", 0) >= len(KINDS) * PAGES - 2  # the same tabs navigated again
    assert "pushcrawl/dropped/render_timeout" not in stats
    assert "pushcrawl/render/dom_read_fallbacks" not in stats  # every page read through DevTools (render.dom)


def _switch_values(cmdline: list[str], switch: str) -> list[set[str]]:
    return [set(a.split("=", 1)[1].split(",")) for a in cmdline if a.startswith(f"--{switch}=")]


#: what a page can ask of the device it runs on, and of an image it holds
DEVICE = (
    "['(hover: hover)', '(pointer: fine)', '(pointer: none)'].map(q => q + ' ' + matchMedia(q).matches)"
    ".concat(['image ' + (document.images[0].complete && document.images[0].naturalWidth > 0)])"
)
#: a page with one image, inline (no request to block): whether it loads shows imagesEnabled's effect
ONE_IMAGE = "<img src='data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='>"


def test_our_switches_keep_every_feature_and_blink_setting_playwright_sets() -> None:
    """Chromium reads only the last --disable-features and the last --blink-settings switch: ours must repeat
    Playwright's, or adding one value would turn Playwright's off (HttpsUpgrades back on; a page seeing a device
    without a pointer). Fails when a Playwright upgrade sets one more. With images blocked (block: [image]), a
    page sees the device Playwright's switches describe, and its images do not load."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        for name, args in (("playwright's", CHROMIUM_ARGS), ("ours", launch_args(RenderOptions(block=["image"])))):
            before = {p.pid for p in psutil.Process().children(recursive=True)}  # a browser still exiting
            browser = pw.chromium.launch(executable_path=RenderOptions().browser(), headless=True, args=args)
            try:
                launched = [
                    p
                    for p in psutil.Process().children(recursive=True)
                    if p.pid not in before and "--remote-debugging-pipe" in p.cmdline()
                ]
                # Debian's /usr/bin launcher is a script that starts the binary: the command line the binary got
                [main] = [p.cmdline() for p in launched if not any(q.ppid() == p.pid for q in launched)]
                page = browser.new_page()
                page.set_content(ONE_IMAGE)
                seen[name] = page.evaluate(DEVICE)
            finally:
                browser.close()
    for switch in ("disable-features", "blink-settings"):  # of the launch with ours
        values = _switch_values(main, switch)
        assert len(values) >= 2, (switch, main)  # Playwright's, then ours
        *playwright, last = values
        for earlier in playwright:
            assert earlier <= last, f"Playwright sets {sorted(earlier - last)} too: add them to connectors.render"
    assert "RenderDocument" in _switch_values(main, "disable-features")[-1]
    device = ["(hover: hover) true", "(pointer: fine) true", "(pointer: none) false"]
    assert seen["playwright's"] == [*device, "image true"]
    assert seen["ours"] == [*device, "image false"]


async def _both_ways(base_url: str) -> list[tuple[str, str, str]]:
    from playwright.async_api import async_playwright

    fell_back: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=RenderOptions().browser(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            read = []
            for path in [*READ, "/raf/0", *READ]:  # one tab, navigated again and again
                await page.goto(base_url + path, wait_until="load")
                await page.wait_for_selector("main, p", state="attached")
                ours = await dom.content(page, page.content, lambda p=path: fell_back.append(p))
                read.append((path, ours, await page.content()))
        finally:
            await browser.close()
    assert fell_back == []  # every read took the DevTools path
    return read


def test_the_dom_read_through_devtools_is_what_page_content_gives() -> None:
    with FrameSite() as site:
        read = asyncio.run(_both_ways(site.base_url))
    for path, ours, playwrights in read:
        assert ours == playwrights, path
    tampered = next(ours for path, ours, _ in read if path == "/tampered")
    assert tampered.startswith("<!DOCTYPE html><html>") and "written by script" in tampered
    assert "fake" not in tampered.split("</head>")[1]
