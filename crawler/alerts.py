"""Alerts for scheduled runs: a webhook POST and/or a command when a run fails, when the index rejected more
items than allowed, or when the site's document count fell (settings.yaml ``alerts:``, docs/operations.md).

``pushcrawl runs --check`` is the pull side (a monitor asks); this is the push side, for runs nobody watches::

    alerts:
      webhook: ${PUSHCRAWL_ALERT_WEBHOOK}   # POST, JSON body: the triggers and the run report
      command: notify-ops --channel crawl    # run without a shell, the same JSON on its standard input
      when: [failure, rejected>10, drop>20%] # default: [failure]

The webhook URL and the command are treated as secrets (a chat webhook carries its token in the URL): they
are registered for redaction and never printed. A failed alert is logged and printed, and changes neither the
run's status nor its exit code — the run's own outcome is what the state store and ``runs --check`` keep.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import requests
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from crawler import secrets
from crawler.report import RunReport

logger = logging.getLogger(__name__)

_CONDITION = re.compile(r"^(failure|rejected>(\d+)|drop>(\d+(?:\.\d+)?)%)$")
#: seconds a webhook or a command may take: an alert must never hold a schedule's next run back for long
ALERT_TIMEOUT_S = 30.0


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook: SecretStr | None = None  # http(s) URL to POST the JSON to
    command: SecretStr | None = None  # a command line (split like a shell, run without one)
    # ``when``, not ``on``: YAML 1.1 (PyYAML) reads a bare ``on`` key as the boolean true
    when: list[str] = ["failure"]  # failure | rejected>N | drop>P%

    @field_validator("when")
    @classmethod
    def _conditions(cls, value: list[str]) -> list[str]:
        for cond in value:
            if not _CONDITION.match(cond.replace(" ", "")):
                raise ValueError(f"conditions are failure, rejected>N or drop>P% (got {cond!r})")
        return [c.replace(" ", "") for c in value]

    @field_validator("webhook", "command")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            secrets.register(value.get_secret_value())
        return value

    @field_validator("webhook")
    @classmethod
    def _url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("an http:// or https:// URL")
        return value


def triggers(cfg: AlertsConfig, report: RunReport, previous_documents: int | None) -> list[str]:
    """Why this run must be reported (empty: it must not). ``previous_documents``: the documents of the
    site's previous finished run of the same mode, when there is one."""
    out: list[str] = []
    rejected = int(report.extra.get("rejected_total", 0)) + sum(
        int(r.get("rejected", 0)) for r in report.extra.get("earlier_runs", [])
    )
    documents = int(report.counts.get("documents", 0))
    for cond in cfg.when:
        m = _CONDITION.match(cond)
        assert m is not None  # validated on load
        if cond == "failure" and report.status != "finished":
            out.append(f"run {report.status}: {report.message or 'no message'}")
        elif m.group(2) is not None and rejected > int(m.group(2)):
            out.append(f"{rejected} item(s) rejected by the index (more than {m.group(2)})")
        elif m.group(3) is not None and previous_documents and report.status == "finished":
            fall = (previous_documents - documents) / previous_documents
            if fall * 100 > float(m.group(3)):
                out.append(f"documents fell from {previous_documents} to {documents} (-{fall:.0%}, over {m.group(3)}%)")
    return out


def notify(cfg: AlertsConfig, report: RunReport, reasons: list[str]) -> list[str]:
    """Send the alert; returns the problems met (each also logged), empty when every channel worked."""
    reasons = [secrets.redact(r) for r in reasons]  # a message may quote a URL or a command line
    payload = json.dumps(
        {"event": "pushcrawl.run", "site": report.site, "triggers": reasons, "report": report.to_json()}
    )
    problems = []
    if cfg.webhook is not None:
        try:
            resp = requests.post(
                cfg.webhook.get_secret_value(),
                data=payload,
                headers={"Content-Type": "application/json"},
                timeout=ALERT_TIMEOUT_S,
            )
            if resp.status_code >= 300:
                problems.append(f"alert webhook answered HTTP {resp.status_code}")
        except requests.RequestException as exc:
            problems.append(f"alert webhook failed: {type(exc).__name__}: {secrets.redact(str(exc))}")
    if cfg.command is not None:
        env = {**os.environ, "PUSHCRAWL_ALERT_SITE": report.site, "PUSHCRAWL_ALERT_STATUS": report.status}
        env["PUSHCRAWL_ALERT_TRIGGERS"] = "; ".join(reasons)
        try:
            done = subprocess.run(
                shlex.split(cfg.command.get_secret_value()),
                input=payload,
                text=True,
                capture_output=True,
                timeout=ALERT_TIMEOUT_S,
                env=env,
                check=False,
            )
            if done.returncode:
                problems.append(f"alert command exited {done.returncode}: {secrets.redact(done.stderr.strip())[:300]}")
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"alert command failed: {type(exc).__name__}: {secrets.redact(str(exc))}")
    for problem in problems:
        logger.warning(problem)
    return problems


def after_run(cfg: AlertsConfig | None, report: RunReport, previous_documents: int | None) -> None:
    """Called by ``crawl`` once a real run ended: alert when a condition holds; say so on stderr."""
    if cfg is None or report.dry_run:
        return
    reasons = triggers(cfg, report, previous_documents)
    if not reasons:
        return
    problems = notify(cfg, report, reasons)
    sent = "alert sent" if not problems else f"alert NOT delivered ({'; '.join(problems)})"
    print(f"  {sent}: {secrets.redact('; '.join(reasons))}", file=sys.stderr)


def previous_documents(state_path: Path, scope: str, mode: str, run_id: int | None) -> int | None:
    """Documents of the last finished run of ``scope`` and ``mode`` before ``run_id``."""
    from crawler.state import StateStore

    if not state_path.exists():
        return None
    state = StateStore(state_path)
    try:
        runs = state.runs(scope, limit=50, dry_runs=False)
    finally:
        state.close()
    for r in runs:
        if (run_id is None or r["id"] < run_id) and r["status"] == "finished" and r["mode"] == mode:
            return int(r["counts"].get("documents", 0))
    return None
