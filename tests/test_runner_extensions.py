"""The Scrapy extensions a run loads: its own, Scrapy's useful ones, and not RemoteControl (whose module imports
aiohttp, ~10 MB of fixed memory) even though Scrapy imports every extension a setting names."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
from scrapy.extension import ExtensionManager
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.misc import load_object
from crawler.config import Settings
from crawler.runner import scrapy_settings

settings = Settings.model_validate({"sites": {"t": {"connector": "sitemap"}}})
# the list Scrapy's ExtensionManager builds (the call that imported RemoteControl to normalise its key)
names = ExtensionManager._get_mwlist_from_settings(ScrapySettings(scrapy_settings(settings, "t", "INFO")))
for name in names:
    load_object(name)  # what Scrapy's ExtensionManager does with each
print(" ".join(names))
print("aiohttp" in sys.modules, "scrapy.extensions.remote_control" in sys.modules)
"""


def test_a_run_loads_its_extensions_and_never_imports_remote_control() -> None:
    # a fresh interpreter: other tests of this process may have imported anything
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    names, imported = out.strip().splitlines()
    assert "crawler.progress.Progress" in names and "crawler.drops.NamedDrops" in names
    assert "scrapy.extensions.throttle.AutoThrottle" in names and "scrapy.extensions.corestats.CoreStats" in names
    assert "LogStats" not in names and "RemoteControl" not in names
    assert imported == "False False"
