"""Alerts (crawler.alerts): the conditions, a real webhook receiver on 127.0.0.1, a real command, secrets."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from crawler import secrets
from crawler.alerts import AlertsConfig, after_run, notify, triggers
from crawler.report import RunReport


class Receiver:
    def __init__(self, status: int = 204) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook/s3cr3t-token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def _report(status: str = "finished", documents: int = 100, rejected: int = 0) -> RunReport:
    report = RunReport(
        "cms", "full", status, 1, {"documents": documents}, 1, 1.0, message="boom" * (status != "finished")
    )
    report.extra["rejected_total"] = rejected
    return report


def test_conditions_fire_only_past_their_thresholds() -> None:
    cfg = AlertsConfig(when=["failure", "rejected>2", "drop>20%"])
    assert triggers(cfg, _report(), previous_documents=110) == []
    assert triggers(cfg, _report(status="failed"), previous_documents=None) == ["run failed: boom"]
    assert triggers(cfg, _report(rejected=2), None) == []
    assert triggers(cfg, _report(rejected=3), None) == ["3 item(s) rejected by the index (more than 2)"]
    assert triggers(cfg, _report(documents=79), previous_documents=100) == [
        "documents fell from 100 to 79 (-21%, over 20%)"
    ]
    assert triggers(AlertsConfig(), _report(rejected=50, documents=1), 100) == []  # default: failure only


def test_bad_conditions_and_urls_are_refused_naming_them() -> None:
    with pytest.raises(ValidationError, match="failure, rejected>N or drop>P%"):
        AlertsConfig(when=["rejected>=3"])
    with pytest.raises(ValidationError, match="http:// or https://"):
        AlertsConfig.model_validate({"webhook": "ftp://example"})


def test_webhook_gets_the_run_report_and_the_url_is_a_secret(receiver: Receiver, capsys: Any) -> None:
    cfg = AlertsConfig.model_validate({"webhook": receiver.url, "when": ["failure"]})
    report = _report(status="failed")
    report.message = f"could not reach {receiver.url}"
    after_run(cfg, report, None)
    body = receiver.bodies[0]
    assert body["site"] == "cms" and body["triggers"] == [
        "run failed: " + report.message.replace(receiver.url, secrets.MASK)
    ]
    assert body["report"]["status"] == "failed"
    assert receiver.url not in json.dumps(body) and "s3cr3t-token" not in repr(cfg)
    err = capsys.readouterr().err
    assert "alert sent" in err and receiver.url not in err
    secrets._secrets.discard(receiver.url)


def test_a_command_reads_the_json_and_a_failed_channel_is_reported(tmp_path: Path, receiver: Receiver) -> None:
    out = tmp_path / "alert.json"
    script = f"import sys, os; open({str(out)!r}, 'w').write(os.environ['PUSHCRAWL_ALERT_TRIGGERS'] + sys.stdin.read())"
    receiver.status = 500
    cfg = AlertsConfig.model_validate({"webhook": receiver.url, "command": f'{sys.executable} -c "{script}"'})
    problems = notify(cfg, _report(status="failed"), ["run failed: boom"])
    assert problems == ["alert webhook answered HTTP 500"]
    text = out.read_text()
    assert text.startswith("run failed: boom") and json.loads(text[len("run failed: boom") :])["site"] == "cms"
    secrets._secrets.discard(receiver.url)


def test_runs_needs_no_alert_secret(write_settings: Any) -> None:
    from tests.conftest import cli_in_process

    path = write_settings("alerts:\n  webhook: ${PUSHCRAWL_TEST_UNSET_HOOK}\nsites: {}\n")
    done = cli_in_process("runs", "--settings", str(path))
    assert done.returncode == 0, done.stderr
    assert "no runs recorded yet" in done.stdout
    failed = cli_in_process("crawl", "x", "--settings", str(path))
    assert failed.returncode == 2 and "PUSHCRAWL_TEST_UNSET_HOOK" in failed.stderr  # a run does need it
