"""The MediaWiki bed: Debian's ``mediawiki`` on SQLite behind nginx + php-fpm, seeded by its own tools.

``python -m tests.realcms.mediawiki.bed start|stop|reset`` (or the functions from tests); ``start`` is
idempotent. State lives in ``$PUSHCRAWL_REALCMS_DIR/mediawiki``: LocalSettings.php (``MW_CONFIG_FILE``, so
Debian's /etc/mediawiki is never touched), the SQLite files, uploads, logs, pid files and ``bed.json``.

Seeding uses MediaWiki's maintenance scripts: ``install.php``, ``importDump.php`` (pages with several
revisions, templates, categories, a hidden category, a redirect, sub-pages, non-ASCII titles),
``importImages.php`` (a PNG and a PDF), ``deleteBatch.php``, ``protect.php``, ``createAndPromote.php`` and
``createBotPassword.php``, then ``runJobs.php``. Two nginx instances serve the same wiki: the public port, and a
private port where anonymous reading is refused (the bot-password login path).
"""

from __future__ import annotations

import json
import secrets
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from tests.realcms import webstack
from tests.realcms.conftest import free_port, realcms_dir

MEDIAWIKI = Path("/usr/share/mediawiki")
HERE = Path(__file__).resolve().parent
PACKAGES = "mediawiki nginx-light php-fpm php-sqlite3 php-intl php-mbstring php-xml"
REQUIRED = [str(MEDIAWIKI / "maintenance" / "install.php"), webstack.NGINX, webstack.PHP_FPM]
ADMIN, ADMIN_PASSWORD = "Admin", "admin-bed-password-1"
BOT_ACCOUNT = "Archivist"

# title → successive wikitexts (each one revision, oldest first)
PAGES: dict[str, list[str]] = {
    "Template:Infobox": ['{| class="infobox"\n| habitat || {{{habitat}}}\n|}'],
    "Category:Coast": ["Pages about the coast."],
    "Category:Needs review": ["__HIDDENCAT__ Pages an editor should look at."],
    "Tide Pools": [
        "Tide pools are rocky.",
        "Tide pools are rocky basins.\n[[Category:Coast]]",
        "{{Infobox|habitat=rocks}}\nTide pools are rocky basins full of an anemonefield.\n"
        "[[Category:Coast]] [[Category:Needs review]]",
    ],
    "Seal Watching": ["Watch seals from the dunes: sealwatchword.\n[[Category:Coast]]"],
    "Seals": ["#REDIRECT [[Seal Watching]]"],
    "Café Ölüdeniz": ["Das Lagünenwasser ist warm.\n[[Category:Coast]]"],
    "東京": ["東京の地図 and a tokyowikiword legend."],
    "Guides": ["Guides for the coast: see [[Guides/Knots]]."],
    "Guides/Knots": ["Knots every sailor ties."],
    "Guides/Knots/Bowline": ["The bowline: a bowlinewordzz loop."],
    "Harbour Rules": ["Only sysops edit these harbourrulesword rules."],
    "Old Pier": ["The old pier oldpierword was demolished."],
}
DELETED = "Old Pier"
PROTECTED = "Harbour Rules"


def run_dir() -> Path:
    return realcms_dir("mediawiki")


def _dump(pages: dict[str, list[str]]) -> str:
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">']
    for n, (title, texts) in enumerate(pages.items()):
        out.append(f"<page><title>{escape(title)}</title>")
        for r, text in enumerate(texts):
            out.append(
                f"<revision><timestamp>2024-0{1 + r}-{10 + n:02d}T12:00:00Z</timestamp>"
                f"<contributor><username>{ADMIN}</username></contributor><comment>revision {r + 1}</comment>"
                "<model>wikitext</model><format>text/x-wiki</format>"
                f'<text xml:space="preserve">{escape(text)}</text></revision>'
            )
        out.append("</page>")
    return "\n".join([*out, "</mediawiki>"])


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x10\x40\x90" * 32 for _ in range(24))
    header = struct.pack(">IIBBBBB", 32, 24, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _pdf(text: str) -> bytes:
    stream = f"BT /F1 18 Tf 20 80 Td ({text}) Tj ET"
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = "%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    return (out + f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").encode()


def maintenance(run: Path, script: str, *args: str, stdin: str | None = None) -> str:
    """Run one of MediaWiki's maintenance scripts against the bed's LocalSettings.php."""
    result = subprocess.run(
        ["php", str(MEDIAWIKI / "maintenance" / f"{script}.php"), *args],
        env={"MW_CONFIG_FILE": str(run / "LocalSettings.php"), "PATH": "/usr/bin:/bin"},
        input=stdin, capture_output=True, text=True, check=False, cwd=MEDIAWIKI,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(
            f"{script}.php failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout


def _install(run: Path, port: int, private_port: int) -> dict[str, Any]:
    for sub in ("data", "images", "cache", "seed"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    maintenance(
        run, "install", "--dbtype", "sqlite", "--dbpath", str(run / "data"), "--dbname", "wiki",
        "--confpath", str(run), "--server", f"http://127.0.0.1:{port}", "--scriptpath", "",
        "--pass", ADMIN_PASSWORD, "--lang", "en", "--skins", "Vector", "Pushcrawl Wiki", ADMIN,
    )  # fmt: skip
    extra = (HERE / "settings.php.tmpl").read_text(encoding="utf-8")
    for key, value in {"@PORT@": str(port), "@PRIVATE_PORT@": str(private_port), "@RUN@": str(run)}.items():
        extra = extra.replace(key, value)
    with open(run / "LocalSettings.php", "a", encoding="utf-8") as settings:
        settings.write(extra)
    seed = run / "seed"
    (seed / "pages.xml").write_text(_dump(PAGES), encoding="utf-8")
    maintenance(run, "importDump", "--quiet", str(seed / "pages.xml"))
    files = seed / "files"
    files.mkdir(exist_ok=True)
    (files / "Lighthouse.png").write_bytes(_png())
    (files / "Tide-ledger.pdf").write_bytes(_pdf("Tide ledger tideledgerword"))
    maintenance(run, "importImages", "--user", ADMIN, "--comment", "seeded", "--extensions", "png,pdf", str(files))
    (seed / "delete.txt").write_text(DELETED + "\n", encoding="utf-8")
    maintenance(run, "deleteBatch", "-u", ADMIN, "-r", "seeded deletion", str(seed / "delete.txt"))
    maintenance(run, "protect", "--user", ADMIN, "--reason", "seeded protection", PROTECTED)
    bot_password = secrets.token_hex(16)
    maintenance(run, "createAndPromote", BOT_ACCOUNT, secrets.token_hex(12))
    maintenance(run, "createBotPassword", "--appid", "pushcrawl", "--grants", "basic", BOT_ACCOUNT, bot_password)
    maintenance(run, "runJobs", "--quiet")
    return {"bot_user": f"{BOT_ACCOUNT}@pushcrawl", "bot_password": bot_password}


def _serve(run: Path, port: int, private_port: int) -> tuple[str, str]:
    php = webstack.start_php_fpm(
        run,
        {"upload_max_filesize": "32M", "post_max_size": "32M"},
        env={"MW_CONFIG_FILE": str(run / "LocalSettings.php")},
    )
    locations = (
        f"location /images/ {{ alias {run}/images/; }}\n"
        "        location /wiki/ { rewrite ^/wiki/(.*)$ /index.php?title=$1 last; }"
    )
    public = webstack.start_nginx(run / "public", port, MEDIAWIKI, php, locations)
    private = webstack.start_nginx(
        run / "private", private_port, MEDIAWIKI, php, locations, "fastcgi_param PUSHCRAWL_PRIVATE 1;"
    )
    return public, private


def start() -> dict[str, Any]:
    """Start (installing and seeding on first use); returns bed.json: api_url, private_api_url, bot login."""
    run = run_dir()
    state = run / "bed.json"
    if state.exists():
        info: dict[str, Any] = json.loads(state.read_text(encoding="utf-8"))
        _serve(run, info["port"], info["private_port"])
        return info
    reset()  # a half-made bed (an interrupted seed) is started over, not patched up
    run = run_dir()
    began = time.monotonic()
    port, private_port = free_port(), free_port()
    info = _install(run, port, private_port)
    public, private = _serve(run, port, private_port)
    info.update(
        port=port, private_port=private_port, base_url=public, api_url=f"{public}/api.php",
        private_api_url=f"{private}/api.php", deleted=DELETED, protected=PROTECTED,
        seed_s=round(time.monotonic() - began, 1),
    )  # fmt: skip
    state.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def stop() -> None:
    webstack.stop_all(run_dir())


def reset() -> None:
    stop()
    shutil.rmtree(run_dir(), ignore_errors=True)


if __name__ == "__main__":
    verb = sys.argv[1] if len(sys.argv) > 1 else ""
    if verb == "start":
        print(json.dumps(start(), indent=2))
    elif verb in ("stop", "reset"):
        {"stop": stop, "reset": reset}[verb]()
    else:
        sys.exit("usage: python -m tests.realcms.mediawiki.bed start|stop|reset")
