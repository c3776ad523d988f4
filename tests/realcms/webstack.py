"""nginx + php-fpm + MariaDB under one bed's runtime directory, for the PHP CMSs (WordPress, MediaWiki).

Every server is Debian's binary run with a configuration written here: bound to 127.0.0.1 (MariaDB and
php-fpm on unix sockets only), logs, pid files and temp dirs under the runtime directory, stopped by pid file.
Debian's ``fastcgi_params`` sets ``HTTP_HOST`` to ``$host`` (no port): on a non-80 port the CMS would build
URLs without the port and redirect to itself, so the PHP location passes ``$host:$server_port``.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import requests

from tests.realcms.conftest import pid_alive, stop_pid

# Debian names the binary after the PHP version (php-fpm8.2 on bookworm): take the newest installed.
PHP_FPM = str(max(Path("/usr/sbin").glob("php-fpm[0-9]*"), default=Path("/usr/sbin/php-fpm")))
NGINX = "/usr/sbin/nginx"
MARIADBD = "/usr/sbin/mariadbd"
AS_ROOT = os.geteuid() == 0


def wait_for(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def start_php_fpm(run: Path, php_values: dict[str, str], env: dict[str, str] | None = None) -> Path:
    """php-fpm with one pool on ``run/php-fpm.sock``; ``php_values`` become ``php_admin_value`` lines."""
    sock, pid = run / "php-fpm.sock", run / "php-fpm.pid"
    if pid_alive(pid) and sock.exists():
        return sock
    lines = [
        "[global]",
        f"pid = {pid}",
        f"error_log = {run / 'php-fpm.log'}",
        "daemonize = yes",
        "[bed]",
        *(["user = root", "group = root"] if AS_ROOT else []),
        f"listen = {sock}",
        "listen.mode = 0666",
        "pm = static",
        "pm.max_children = 4",
        "catch_workers_output = yes",
        "clear_env = yes",
        *(f"env[{k}] = {v}" for k, v in (env or {}).items()),
        *(f"php_admin_value[{k}] = {v}" for k, v in php_values.items()),
    ]
    conf = run / "php-fpm.conf"
    conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run([PHP_FPM, "--fpm-config", str(conf), *(["-R"] if AS_ROOT else [])], check=True)
    wait_for(sock.exists, "php-fpm")
    return sock


def start_nginx(run: Path, port: int, root: Path, php_sock: Path, locations: str = "", fastcgi_extra: str = "") -> str:
    """nginx on 127.0.0.1:``port`` serving ``root``, PHP through ``php_sock``; returns the base URL.

    ``run`` holds this nginx's config, logs and pid file (one nginx per directory)."""
    base = f"http://127.0.0.1:{port}"
    pid = run / "nginx.pid"
    run.mkdir(parents=True, exist_ok=True)
    if not pid_alive(pid):
        tmp = run / "nginx-tmp"
        tmp.mkdir(exist_ok=True)
        conf = run / "nginx.conf"
        conf.write_text(
            f"""{"user root;" if AS_ROOT else ""}
daemon on;
worker_processes 1;
pid {pid};
error_log {run / "nginx-error.log"};
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {run / "nginx-access.log"};
    client_body_temp_path {tmp}/body; fastcgi_temp_path {tmp}/fastcgi; proxy_temp_path {tmp}/proxy;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    client_max_body_size 64m;
    server {{
        listen 127.0.0.1:{port};
        server_name 127.0.0.1;
        root {root};
        index index.php;
        {locations}
        location ~ \\.php$ {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param HTTP_HOST $host:$server_port;
            {fastcgi_extra}
            fastcgi_pass unix:{php_sock};
            fastcgi_read_timeout 300;
        }}
    }}
}}
""",
            encoding="utf-8",
        )
        subprocess.run([NGINX, "-p", str(run), "-c", str(conf), "-e", str(run / "nginx-error.log")], check=True)
    wait_for(lambda: _answers(base), f"nginx on {base}")
    return base


def _answers(url: str) -> bool:
    try:
        requests.get(url, timeout=5, allow_redirects=False)
    except requests.RequestException:
        return False
    return True


def start_mariadb(run: Path) -> Path:
    """A private MariaDB on ``run/mysql.sock`` (no TCP), data in ``run/db``; root without a password."""
    data, sock, pid = run / "db", run / "mysql.sock", run / "mariadb.pid"
    if pid_alive(pid) and sock.exists():
        return sock
    user = ["--user=root"] if AS_ROOT else []
    if not (data / "mysql").exists():
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user,
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True,
        )  # fmt: skip
    log = open(run / "mariadb.log", "ab")  # noqa: SIM115 - handed to the daemon, closed when this process exits
    subprocess.Popen(
        [MARIADBD, "--no-defaults", f"--datadir={data}", f"--socket={sock}", f"--pid-file={pid}",
         "--skip-networking", f"--log-error={run / 'mariadb.err'}", *user],
        stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    wait_for(lambda: sock.exists() and pid_alive(pid), "MariaDB")
    return sock


def mariadb(sock: Path, sql: str) -> str:
    result = subprocess.run(
        ["mariadb", "--no-defaults", "-S", str(sock), "-u", "root", "-N", "-B", "-e", sql],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout


def stop_all(run: Path) -> None:
    """Stop every server of a bed by the pid files under ``run`` (nginx of sub-directories included)."""
    # each server's command line names its config or data under ``run``: a reused pid is left alone
    for pid in [*run.glob("*/nginx.pid"), run / "nginx.pid", run / "php-fpm.pid", run / "mariadb.pid"]:
        stop_pid(pid, str(run))
