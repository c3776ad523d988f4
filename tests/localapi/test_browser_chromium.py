"""The Content Browser in headless Chromium: navigate from the sources page to an item, search as a user."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.localapi.conftest import Client

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture
def driver() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    service = webdriver.ChromeService(executable_path=chromedriver)
    drv = webdriver.Chrome(options=options, service=service)
    yield drv
    drv.quit()


def test_browse_to_an_item_and_search_as_user(client: Client, source: str, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shows(*texts: str) -> bool:
        # A click starts a navigation; wait until the new page carries the text instead of racing it.
        return bool(WebDriverWait(driver, 10).until(lambda d: all(t in d.page_source for t in texts)))

    allowed = [
        {
            "allowAnonymous": False,
            "allowedPermissions": [{"identity": "ann@example.com", "identityType": "User"}],
            "deniedPermissions": [],
        }
    ]
    client.put_doc(
        source,
        "https://x.test/secret",
        {"title": "Secret plans", "data": "narwhal", "kb_code": "X1", "permissions": allowed},
    )
    client.idle()
    driver.get(client.base + "/")
    driver.find_element(By.LINK_TEXT, "docs").click()
    assert shows("kb_code")
    driver.find_element(By.LINK_TEXT, "https://x.test/secret").click()
    assert shows("Secret plans", "ann@example.com")
    driver.find_element(By.LINK_TEXT, "Search").click()
    driver.find_element(By.NAME, "q").send_keys("narwhal")
    driver.find_element(By.TAG_NAME, "button").click()
    assert shows("0 result(s)")
    driver.find_element(By.NAME, "user").send_keys("ann@example.com")
    driver.find_element(By.TAG_NAME, "button").click()
    assert shows("1 result(s)", "Secret plans")
    driver.find_element(By.LINK_TEXT, "Activity log").click()
    assert shows("ADDED")
