"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium: load a
page, collect console messages and every network request, read the DOM, save screenshots.

``make setup`` installs both packages when they are missing and it runs as root; where they
cannot be installed, :func:`chromium_paths` returns None and the browser tests skip.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def chromium_paths() -> tuple[str, str] | None:
    """``(browser, driver)`` executables, or None when either is absent."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@dataclass
class Page:
    console: list[dict[str, Any]] = field(default_factory=list)  # {level, message}
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    data: Any = None  # what the probe script returned
    screenshots: list[Path] = field(default_factory=list)


def render(url: str, probe_js: str, shots: Path, width: int = 1280, height: int = 900) -> Page:
    """Open ``url`` in headless Chromium (no sandbox, no background networking), run
    ``probe_js`` (its ``return`` value comes back in ``Page.data``) and save screenshots into
    ``shots``: ``top.png`` (the first screen) and ``full.png`` (the whole page)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = chromium_paths()
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        f"--user-data-dir={shots / 'profile'}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    page = Page()
    try:
        driver.get(url)  # returns after the load event: every inline image has been decoded
        page.data = driver.execute_script(probe_js)
        shots.mkdir(parents=True, exist_ok=True)
        top = shots / "top.png"
        driver.save_screenshot(str(top))
        full_height = driver.execute_script("return document.documentElement.scrollHeight")
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": full_height, "scale": 1},
            },
        )
        full = shots / "full.png"
        full.write_bytes(base64.b64decode(shot["data"]))
        page.screenshots = [top, full]
        page.console = [{"level": m["level"], "message": m["message"]} for m in driver.get_log("browser")]
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                page.requests.append(msg["params"]["request"]["url"])
    finally:
        driver.quit()
    return page
