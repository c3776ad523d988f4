"""crawler.malloc.tune: glibc's arena cap and fixed mmap threshold, unless the environment chose already."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GLIBC = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None


def tuned(env: dict[str, str]) -> str:
    # a fresh process: mallopt changes the process it runs in, and the environment is read at its start
    code = "from crawler import malloc; print(','.join(malloc.tune()))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_both_parameters_are_set_on_glibc() -> None:
    assert tuned({}) == "MALLOC_ARENA_MAX,MALLOC_MMAP_THRESHOLD_"


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_what_the_environment_sets_is_left_alone() -> None:
    assert tuned({"MALLOC_ARENA_MAX": "8"}) == "MALLOC_MMAP_THRESHOLD_"
    assert tuned({"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_ARENA_MAX": "1"}) == ""


def test_the_cli_tunes_before_anything_else() -> None:
    import inspect

    from crawler import cli

    first = inspect.getsource(cli.main).split("\n")[1].strip()
    assert first.startswith("malloc.tune()"), first


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_trim_gives_back_free_pages_inside_the_heap() -> None:
    # 2 KB blocks come from the heap (under the mmap threshold); one in 16 kept alive holds the heap's top and
    # its middle, so only a trim of the whole heap (not glibc's automatic top trim) can return the rest
    code = (
        "from crawler import malloc\n"
        "rss = lambda: int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])\n"
        "blocks = [bytes(2000) + bytes([i % 256]) for i in range(60_000)]\n"
        "kept = blocks[::16]; del blocks\n"
        "before = rss(); released = malloc.trim(); after = rss()\n"
        "print(released, before - after)\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True)
    released, freed_kb = done.stdout.split()
    assert released == "True" and int(freed_kb) > 40_000, done.stdout  # ~110 MB freed, ~7 MB kept
