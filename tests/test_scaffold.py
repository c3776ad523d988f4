"""``pushcrawl new-connector``: name validation, no overwriting, templates shipped, and the generated project works.

The integration test is the issue's "done when": scaffold into a temporary folder, lint the generated code, run
its own tests in a subprocess, start its fixture CMS, crawl it into the local Push API, and find a page by search.
"""

from __future__ import annotations

import fnmatch
import json
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from crawler import scaffold
from crawler.cli import main
from tests.fixtures import zygote

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my-cms", "not a Python identifier.*such as 'my_cms'"),
        ("1cms", "not a Python identifier"),
        ("class", "not a Python keyword"),
        ("Intranet", "lower-case"),
        ("json", "would shadow the module 'json'"),
        ("crawler", "would shadow the module 'crawler'"),
    ],
)
def test_bad_names_are_refused_with_a_reason(
    name: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-connector", name, "--path", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert __import__("re").search(expected, err), err
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "intranet").mkdir()
    (tmp_path / "intranet" / "spider.py").write_text("# mine\n")
    assert main(["new-connector", "intranet", "--path", str(tmp_path)]) == 2
    assert "already exists: nothing was written" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "intranet").iterdir()] == ["spider.py"]
    assert (tmp_path / "intranet" / "spider.py").read_text() == "# mine\n"


def test_every_template_is_used_and_shipped_as_package_data() -> None:
    folder = Path(scaffold.__file__).parent
    on_disk = {p.name for p in folder.glob("*.tmpl")}
    assert on_disk == set(scaffold.FILES)
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = config["package-data"]["crawler.scaffold"]
    assert all(any(fnmatch.fnmatch(name, g) for g in globs) for name in on_disk)
    assert any(fnmatch.fnmatch("crawler.scaffold", pat) for pat in config["packages"]["find"]["include"])


def test_placeholders_are_all_replaced(tmp_path: Path) -> None:
    root = scaffold.create("help_desk", tmp_path)
    for path in root.rglob("*"):
        if path.is_file():
            assert "{{" not in path.read_text(), path
    spider = (root / "help_desk" / "spider.py").read_text()
    assert "class HelpDeskConnector(Connector[HelpDeskConnectorOptions])" in spider
    assert "${HELP_DESK_URL:-http://127.0.0.1:8765}" in (root / "settings.yaml").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
@pytest.mark.heavy
def test_generated_connector_passes_its_tests_and_crawls_its_fixture_into_the_local_push_api(
    tmp_path: Path,
) -> None:
    proc = zygote.run(["new-connector", "intranet", "--path", str(tmp_path)], cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "intranet"

    lint = _run([sys.executable, "-m", "ruff", "check", "--isolated", "--line-length", "120",
                 "--select", "E,F,W,B,UP,SIM", "."], root)  # fmt: skip
    assert lint.returncode == 0, lint.stdout

    tests = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], root)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "7 passed" in tests.stdout

    port = _free_port()
    fixture = subprocess.Popen(
        [sys.executable, "-m", "intranet.fixture", "--port", str(port)], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert fixture.stdout is not None
        assert "serving 5 pages" in fixture.stdout.readline()
        env = {**os.environ, "INTRANET_URL": f"http://127.0.0.1:{port}"}
        report = tmp_path / "report.json"
        crawl = zygote.run(["crawl", "intranet", "--report", str(report)], cwd=root, env=env)
        assert crawl.returncode == 0, crawl.stderr
        data = json.loads(report.read_text())
        assert data["status"] == "finished"
        assert data["counts"]["pushed"] == 5 and data["counts"]["fetched"] == 3  # three listing pages of 2
        found = zygote.run(["search", "vpn", "--json"], cwd=root, env=env)
        assert found.returncode == 0, found.stderr
        titles = [r.get("title") for r in json.loads(found.stdout)["results"]]
        assert titles == ["Connect to the VPN"]
    finally:
        fixture.terminate()
        fixture.wait(10)
