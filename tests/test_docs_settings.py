"""Meta-test: every settings.yaml key and every command-line option is documented (STYLE.md item 9).

The keys come from the models themselves, not from a list kept here: the pydantic models behind
settings.yaml (crawler/config.py's ``Settings`` and every model nested in it) and each shipped connector's
``Options`` model; the options come from the argparse parser ``pushcrawl`` builds (crawler/cli.py), every
subcommand included. A new key or option without a line of documentation fails here, naming it.

"Documented" means the name is written as a key or an option where users read: in README.md or docs/**.md,
as YAML (``batch_max_items:``), in backticks (`` `batch_max_items` ``) or at the end of a dotted path
(``push.batch_max_items``). A connector's options must appear in its own page (docs/connectors/<name>.md)
or the README; the ``scrapy:`` map of a site is Scrapy's own settings, documented by Scrapy.
"""

from __future__ import annotations

import argparse
import re
import types
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from connectors.registry import SHIPPED, load
from crawler.cli import build_parser
from crawler.config import Settings
from crawler.fieldrules import ARG_TRANSFORMS, SIMPLE_TRANSFORMS, Step

ROOT = Path(__file__).resolve().parent.parent


@cache
def _text(*paths: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in paths if p.is_file())


def user_docs() -> str:
    return _text(ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")))


def mentions_key(text: str, name: str) -> bool:
    """``name`` written as a settings key: ``name:`` (YAML), `` `name` ``, or ``a.b.name`` in a dotted path."""
    key = re.escape(name)
    return re.search(rf"(?<![\w-])({key}\s*:|`{key}`|`[\w.\[\]<>-]*\.{key}\b|\w\.{key}\b)", text) is not None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's type holds: the type itself, list[M], dict[str, M], M | N, Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (list, dict, tuple, set, Union, types.UnionType) or get_args(annotation):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


#: models written in settings.yaml by a vocabulary of their own, not by their field names: a transform step
#: is ``lowercase`` or ``{split: ","}`` (its ``op``/``arg`` fields are the parsed form)
VOCABULARY: dict[type[BaseModel], tuple[str, ...]] = {Step: (*SIMPLE_TRANSFORMS, *ARG_TRANSFORMS)}


def settings_keys(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str]]:
    """(dotted path, key) for every field a user may write, depth first, under the name written in YAML
    (the alias: ``copy`` for ``copy_``); excluded fields are internal."""
    if model in VOCABULARY:
        return [(f"{prefix}{word}", word) for word in VOCABULARY[model]]
    keys: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        name = field.alias or name
        path = f"{prefix}{name}"
        keys.append((path, name))
        for sub in _models_in(field.annotation):
            keys.extend(settings_keys(sub, f"{path}.") if sub is not model else [])
    return keys


def cli_options(parser: argparse.ArgumentParser, prog: str = "pushcrawl") -> list[tuple[str, tuple[str, ...]]]:
    """(command, spellings) for every option of every (sub)command (``("-s", "--set")``); -h/--help and
    --version aside."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for action in parser._actions:  # argparse has no public walk of its parsers
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(cli_options(sub, f"{prog} {name}"))
        elif action.option_strings and not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            found.append((prog, tuple(action.option_strings)))
    return found


def mentions_option(text: str, spellings: tuple[str, ...]) -> bool:
    """One of the option's spellings, as a whole word: ``--report`` is not found inside ``--report-dir``."""
    return any(re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", text) for opt in spellings)


def subcommands(parser: argparse.ArgumentParser, prog: str = "pushcrawl") -> list[str]:
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prog} {name}")
                found.extend(subcommands(sub, f"{prog} {name}"))
    return found


def test_the_walks_find_what_they_should() -> None:
    # the walks must reach nested models, unions and subcommands, or the tests below would pass on nothing
    paths = {p for p, _ in settings_keys(Settings)}
    assert {"push.batch_max_items", "targets.api_key", "sites.security.rules.allow.identity"} <= paths
    assert "source_file" not in paths  # internal: where the file was read from
    assert {"sites.fields.rules.copy", "sites.fields.rules.transform.split"} <= paths  # aliases, vocabulary
    options = set(cli_options(build_parser()))
    assert ("pushcrawl crawl", ("--report",)) in options and ("pushcrawl check", ("--settings",)) in options
    assert "pushcrawl runs" in subcommands(build_parser())
    assert mentions_option("pushcrawl crawl -s push.max_in_flight=2", ("-s", "--set"))
    assert not mentions_option("--report-dir x", ("--report",))
    assert not mentions_key("batch_max_items_extra: 1 and xbatch_max_items", "batch_max_items")
    assert mentions_key("push:\n  batch_max_items: 4", "batch_max_items")
    assert mentions_key("set `push.batch_max_items` to", "batch_max_items")


def test_every_settings_key_is_documented() -> None:
    docs = user_docs()
    missing = sorted({path for path, key in settings_keys(Settings) if not mentions_key(docs, key)})
    assert not missing, "settings.yaml keys not documented in README.md or docs/: " + ", ".join(missing)


@pytest.mark.parametrize("connector", sorted(SHIPPED))
def test_every_connector_option_is_documented(connector: str) -> None:
    page = _text(ROOT / "README.md", ROOT / "docs" / "connectors" / f"{connector}.md")
    keys = settings_keys(load(connector).Options)
    missing = sorted({path for path, key in keys if not mentions_key(page, key)})
    assert not missing, (
        f"options of the {connector} connector not documented in docs/connectors/{connector}.md or README.md: "
        + ", ".join(missing)
    )


def test_every_cli_option_is_documented() -> None:
    docs = user_docs()
    parser = build_parser()
    missing = sorted(
        {f"{cmd} {'/'.join(opts)}" for cmd, opts in cli_options(parser) if not mentions_option(docs, opts)}
    )
    missing += [cmd for cmd in subcommands(parser) if cmd not in docs]
    assert not missing, "command-line options or commands not documented in README.md or docs/: " + ", ".join(missing)
