"""The ``distributed:`` settings: validation, the password only from the environment, and the settings digest
that decides whether a worker may join (in process: no Redis, no crawl)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crawler import secrets
from crawler.config import load_settings
from crawler.distributed.runinfo import differences, distributed_config, settings_digest
from crawler.errors import SettingsError

SITE = """
sites:
  docs:
    connector: sitemap
    options: {sitemap_urls: ["http://127.0.0.1:1/sitemap.xml"]}
"""


def test_a_site_block_wins_over_the_global_one(write_settings: Callable[[str], Path]) -> None:
    path = write_settings(
        "distributed: {redis_url: 'redis://10.0.0.1:6379/0'}\n"
        + SITE
        + "    distributed: {redis_url: 'redis://10.0.0.2:6380/1', worker_timeout_s: 5}\n"
    )
    cfg = distributed_config(load_settings(str(path)), "docs")
    assert cfg.redis_url == "redis://10.0.0.2:6380/1" and cfg.worker_timeout_s == 5


def test_no_block_names_the_key_to_add(write_settings: Callable[[str], Path]) -> None:
    with pytest.raises(SettingsError, match=r"sites\.docs\.distributed.*redis_url"):
        distributed_config(load_settings(str(write_settings(SITE))), "docs")


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("{redis_url: 'http://x:1'}", "a Redis URL like"),
        ("{redis_url: 'redis://:hunter22@x:6379/0'}", "no password in the URL"),
        ("{redis_url: 'redis://x:6379/0', password: hunter22}", r"distributed\.password.*environment"),
    ],
)
def test_bad_blocks_are_refused_naming_the_key(
    write_settings: Callable[[str], Path], block: str, expected: str
) -> None:
    with pytest.raises(SettingsError, match=expected) as err:
        load_settings(str(write_settings(f"distributed: {block}\n" + SITE)))
    assert "hunter22" not in str(err.value)


def test_the_password_comes_from_the_environment_and_is_a_secret(
    write_settings: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHCRAWL_TEST_REDIS_PW", "pw-from-env-123")
    path = write_settings(
        "distributed: {redis_url: 'redis://x:6379/0', password: '${PUSHCRAWL_TEST_REDIS_PW}'}\n" + SITE
    )
    cfg = distributed_config(load_settings(str(path)), "docs")
    assert cfg.password is not None and cfg.password.get_secret_value() == "pw-from-env-123"
    assert secrets.redact("auth pw-from-env-123 failed") == "auth *** failed"


def test_the_digest_names_the_section_that_differs(write_settings: Callable[[str], Path]) -> None:
    base = load_settings(str(write_settings("distributed: {redis_url: 'redis://x:6379/0'}\n" + SITE)))
    other = load_settings(
        str(write_settings("distributed: {redis_url: 'redis://y:6379/0'}\n" + SITE, "other.yaml")),
        ["sites.docs.scrapy.CONCURRENT_REQUESTS=3", "state_dir=elsewhere"],
    )
    coordinator, worker = settings_digest(base, "docs", "local"), settings_digest(other, "docs", "local")
    # the Redis address and the state directory are each machine's own; the Scrapy settings are not
    assert differences(coordinator, worker) == ["sites.docs.scrapy"]
