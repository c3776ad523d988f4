"""Where each effective setting came from: a default, settings.yaml, the environment, or ``-s`` on the command line.

``pushcrawl check`` prints every effective value next to its origin, secrets redacted. The origins are worked
out from the settings file as written (before ``${VAR}`` interpolation), the ``-s`` overrides and the validated
models, so ``crawler.config.load_settings`` needs no bookkeeping of its own: a value present in the file is
from settings.yaml (or from the environment when it is a ``${VAR}`` reference to a set variable), a value set
by ``-s KEY=VALUE`` is from the command line, anything else is a default.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import yaml

from crawler import secrets
from crawler.config import _ENV_REF, _SECRET_KEY, Settings
from crawler.jsontypes import JSONObject

_MISSING = object()


@dataclass(frozen=True)
class Setting:
    key: str  # dotted path, e.g. "push.batch_max_items"
    value: str  # display form, secrets redacted
    origin: str  # "default" | "settings.yaml" | "environment ($VAR)" | "command line (-s KEY)" | ...


def _flatten(node: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(node, dict) and node:
        out: list[tuple[str, object]] = []
        for key, value in node.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [(prefix, node)]


def _lookup(raw: object, key: str) -> object:
    node = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _env_refs(value: object) -> list[tuple[str, bool]]:
    """``${VAR}`` references inside a raw value: (name, is set in the environment)."""
    text = json.dumps(value) if not isinstance(value, str) else value
    return [(m.group(1), m.group(1) in os.environ) for m in _ENV_REF.finditer(text)]


def origin_of(key: str, raw: JSONObject, overrides: list[str], file_label: str) -> str:
    for item in reversed(overrides):  # the last -s for a key wins, as in apply_overrides
        okey = item.partition("=")[0]
        if key == okey or key.startswith(okey + "."):
            return f"command line (-s {okey})"
    value = _lookup(raw, key)
    if value is _MISSING:
        return "default"
    refs = _env_refs(value)
    if refs:
        names = ", ".join(f"${name}" for name, _ in refs)
        if all(is_set for _, is_set in refs):
            return f"environment ({names})"
        return f"{file_label}: default of {names}, which is not set"
    return file_label


def _display(key: str, value: object) -> str:
    if isinstance(value, str) and value.startswith("**") and set(value) == {"*"}:
        return secrets.MASK  # a SecretStr as pydantic dumps it
    if _SECRET_KEY.search(key.rsplit(".", 1)[-1]) and value not in (None, ""):
        return secrets.MASK  # a secret-looking key, even if written literally in the file
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return secrets.redact(text)


def effective_settings(
    settings: Settings,
    overrides: list[str] | None = None,
    options: JSONObject | None = None,
) -> list[Setting]:
    """Every effective value, flattened to dotted keys, with its origin.

    ``options`` maps a site name to its validated connector Options, so that option defaults are listed too.
    """
    overrides = overrides or []
    try:
        raw = yaml.safe_load(settings.source_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        raw = {}
    data = settings.model_dump(mode="json", exclude={"source_file"})
    for site, opts in (options or {}).items():
        if site in data.get("sites", {}) and hasattr(opts, "model_dump"):
            data["sites"][site]["options"] = opts.model_dump(mode="json")
    label = settings.source_file.name
    return [Setting(key, _display(key, value), origin_of(key, raw, overrides, label)) for key, value in _flatten(data)]


def format_settings(rows: list[Setting], width: int = 48) -> list[str]:
    key_width = min(width, max((len(r.key) for r in rows), default=0))
    val_width = min(40, max((len(r.value) for r in rows), default=0))
    return [f"  {r.key:<{key_width}} = {r.value:<{val_width}}  ({r.origin})" for r in rows]
