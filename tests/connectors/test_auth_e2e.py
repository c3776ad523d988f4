"""``auth:`` end to end: ``pushcrawl check`` and ``pushcrawl crawl`` (real CLI, subprocesses: the exit codes and
outputs are what is tested) on an intranet behind a form login, the password from ``${ENV}``: the pages are
pushed and searchable, a wrong password fails ``check`` and the crawl with a message naming the user, nothing
is swept, and the password is in no log file, output or report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import read_report, run_cli
from tests.connectors.e2e import Site
from tests.fixtures.login_server import PASSWORD, USER, LoginSite

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WRONG = "not-the-password-0042"


@pytest.fixture
def intranet() -> Iterator[LoginSite]:
    with LoginSite("form") as server:
        yield server


def make_site(folder: Path, srv: LoginSite, password: str = PASSWORD) -> Site:
    options = {
        "start_urls": [f"{srv.base_url}/"],
        "autothrottle": False,
        "auth": {"kind": "form", "login_url": f"{srv.base_url}/login", "username": USER, "password": "${PW}"},
    }
    created = Site.create(folder, "intranet", "web", options, env={"PW": password})
    settings = json.loads(Path(created.settings).read_text(encoding="utf-8"))
    del settings["sites"]["intranet"]["security"]  # a web site supplies no permissions: the default applies
    Path(created.settings).write_text(json.dumps(settings), encoding="utf-8")
    return created


def crawl(site: Site, *extra: str) -> tuple[int, str, dict[str, Any], str]:
    """Exit code, everything logged (stderr and the run's log file), the report and its raw text."""
    site.runs += 1
    path = site.folder / f"report{site.runs}.json"
    result = run_cli("crawl", site.site, "--settings", site.settings, "--report", str(path), *extra, env=site.env)
    report = read_report(path)
    log_file = Path(report["log_file"]) if report.get("log_file") else None
    log = (
        result.stderr + result.stdout + (log_file.read_text(encoding="utf-8") if log_file and log_file.exists() else "")
    )
    return result.returncode, log, report, path.read_text(encoding="utf-8")


def test_a_form_login_crawl_pushes_the_pages_and_a_wrong_password_sweeps_nothing(
    intranet: LoginSite, tmp_path: Path
) -> None:
    site = make_site(tmp_path, intranet)
    code, log, report, raw = crawl(site)
    assert code == 0, log[-3000:]
    assert report["status"] == "finished" and report["counts"]["pushed"] == 7, report
    assert site.uris("secret3", base=intranet.base_url) == {"/p/3"}
    assert not site.uris("Log in") & {"/login", "/login?next=/"}
    assert PASSWORD not in log and PASSWORD not in raw

    wrong = make_site(tmp_path, intranet, WRONG)
    check = run_cli("check", "intranet", "--settings", wrong.settings, env=wrong.env)
    said = check.stdout + check.stderr
    assert check.returncode != 0 and f"refused the login of user '{USER}'" in said and WRONG not in said

    code, log, report, raw = crawl(wrong, "--full")
    assert code != 0 and report["status"] == "failed"
    assert f"refused the login of user '{USER}'" in report["message"] and report["deleted_ids"] == []
    assert WRONG not in log and WRONG not in raw
    assert site.uris("secret3", base=intranet.base_url) == {"/p/3"}  # the first run's pages are all still there
    assert len(site.search("intranet")) == 7


def test_a_literal_password_in_settings_is_refused(intranet: LoginSite, tmp_path: Path) -> None:
    site = make_site(tmp_path, intranet)
    settings = json.loads(Path(site.settings).read_text(encoding="utf-8"))
    settings["sites"]["intranet"]["options"]["auth"]["password"] = PASSWORD
    Path(site.settings).write_text(json.dumps(settings), encoding="utf-8")
    check = run_cli("check", "intranet", "--settings", site.settings)
    said = check.stdout + check.stderr
    assert check.returncode != 0 and "sites.intranet.options.auth.password" in said and "${" in said
    assert PASSWORD not in said
