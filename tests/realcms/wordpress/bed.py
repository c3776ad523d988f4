"""The WordPress bed: Debian's ``wordpress`` on nginx + php-fpm + a private MariaDB, seeded by ``seed.php``.

``python -m tests.realcms.wordpress.bed start|stop|reset`` (or ``start()``/``stop()``/``reset()`` from tests).
``start`` is idempotent: a running bed is reused, a stopped one restarted on its port, a missing one
installed and seeded. Runtime state lives in ``$PUSHCRAWL_REALCMS_DIR/wordpress`` (default under /tmp): the
database, uploads, configs, logs, pid files and ``bed.json`` (base URL, ids, the Application Password).

Debian's ``/usr/share/wordpress/wp-config.php`` reads its settings from ``/etc/wordpress``; to keep every
byte of the bed under its runtime directory the docroot there holds symlinks to Debian's files, its own
``wp-config.php`` and ``wp-content``, and php-fpm prepends a file that points ``ABSPATH`` at that docroot
(PHP resolves symlinks in ``__FILE__``, so without it WordPress would look for ``wp-config.php`` in /usr/share).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.realcms import webstack
from tests.realcms.conftest import free_port, realcms_dir

WORDPRESS = Path("/usr/share/wordpress")
HERE = Path(__file__).resolve().parent
PACKAGES = "wordpress nginx-light php-fpm php-mysql mariadb-server php-gd"
REQUIRED = [str(WORDPRESS / "wp-settings.php"), webstack.NGINX, webstack.PHP_FPM, webstack.MARIADBD]


def run_dir() -> Path:
    return realcms_dir("wordpress")


def _docroot(run: Path, base: str, sock: Path) -> Path:
    docroot = run / "docroot"
    docroot.mkdir(exist_ok=True)
    for entry in WORDPRESS.iterdir():
        link = docroot / entry.name
        if entry.name not in ("wp-config.php", "wp-content", ".htaccess") and not link.exists():
            link.symlink_to(entry)
    content = docroot / "wp-content"
    for sub in ("uploads", "mu-plugins", "plugins", "upgrade"):
        (content / sub).mkdir(parents=True, exist_ok=True)
    if not (content / "themes").exists():
        (content / "themes").symlink_to(WORDPRESS / "wp-content" / "themes")
    shutil.copy(HERE / "offline.php", content / "mu-plugins" / "offline.php")
    salts = "\n".join(
        f"define('{k}', '{secrets.token_hex(32)}');"
        for k in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
                  "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")
    )  # fmt: skip
    config = (HERE / "wp-config.php.tmpl").read_text(encoding="utf-8")
    for key, value in {"@SOCK@": str(sock), "@BASE@": base, "@DOCROOT@": str(docroot), "@SALTS@": salts}.items():
        config = config.replace(key, value)
    (docroot / "wp-config.php").write_text(config, encoding="utf-8")
    (run / "prepend.php").write_text(f"<?php if (!defined('ABSPATH')) define('ABSPATH', '{docroot}/');\n")
    return docroot


def _serve(run: Path, port: int) -> str:
    sock = webstack.start_mariadb(run)
    docroot = run / "docroot"
    php = webstack.start_php_fpm(
        run, {"auto_prepend_file": str(run / "prepend.php"), "upload_max_filesize": "32M", "post_max_size": "32M"}
    )
    pretty = "location / { try_files $uri $uri/ /index.php?$args; }"
    assert docroot.exists() and sock.exists()
    return webstack.start_nginx(run, port, docroot, php, pretty)


def start() -> dict[str, Any]:
    """Start (installing and seeding on first use) and return bed.json: base_url, ids, app_password."""
    run = run_dir()
    state = run / "bed.json"
    if state.exists():
        info: dict[str, Any] = json.loads(state.read_text(encoding="utf-8"))
        _serve(run, int(info["port"]))
        return info
    reset()  # a half-made bed (an interrupted seed) is started over, not patched up
    run = run_dir()
    began = time.monotonic()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sock = webstack.start_mariadb(run)
    webstack.mariadb(sock, "CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4")
    docroot = _docroot(run, base, sock)
    seeded = subprocess.run(
        ["php", "-d", "memory_limit=512M", str(HERE / "seed.php")],
        env={"WP_BED_DOCROOT": str(docroot), "WP_BED_HOST": f"127.0.0.1:{port}", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding WordPress failed:\n{seeded.stdout[-3000:]}\n{seeded.stderr[-3000:]}")
    info = {**json.loads(seeded.stdout.strip().splitlines()[-1]), "port": port, "base_url": base}
    info["seed_s"] = round(time.monotonic() - began, 1)
    _serve(run, port)
    state.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def stop() -> None:
    webstack.stop_all(run_dir())


def reset() -> None:
    """Stop and forget everything: the next start installs and seeds a fresh site."""
    run = run_dir()
    stop()
    shutil.rmtree(run, ignore_errors=True)


if __name__ == "__main__":
    verb = sys.argv[1] if len(sys.argv) > 1 else ""
    if verb == "start":
        print(json.dumps(start(), indent=2))
    elif verb in ("stop", "reset"):
        {"stop": stop, "reset": reset}[verb]()
    else:
        sys.exit("usage: python -m tests.realcms.wordpress.bed start|stop|reset")
