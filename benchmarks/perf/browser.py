"""Headless Chromium, driven through chromedriver's W3C WebDriver HTTP API.

The protocol is JSON over HTTP, so the standard library drives it: no
browser-automation package is needed. ``scripts/setup.sh`` installs Debian's
``chromium`` and ``chromium-driver``. Used by the viewer's browser tests and
its render benchmark::

    with Browser() as b:
        b.get("file:///tmp/site/index.html")
        b.click(b.find("th.num"))
        b.screenshot("index.png")
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lean_env.closing import Closing
from lean_env.errors import EnvironmentError_

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
# Flags for a browser that runs headless in a container and never reaches the network.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--allow-file-access-from-files",
)


def find_chromium() -> tuple[str, str]:
    """Paths of the browser and its driver, or a clear error."""
    browser = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver:
        raise EnvironmentError_(
            "chromium and chromedriver are needed (apt-get install chromium chromium-driver; "
            "scripts/setup.sh does it)"
        )
    return browser, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser(Closing):
    """One headless Chromium session (a fresh profile, deleted on quit)."""

    def __init__(self, width: int = 1280, height: int = 1000, timeout: float = 60.0) -> None:
        browser, driver = find_chromium()
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="dco-chromium-")
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.driver = subprocess.Popen(
            [driver, f"--port={port}", "--allowed-ips=127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._wait_ready()
            args = [
                *CHROMIUM_ARGS,
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
            ]
            caps = {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": browser, "args": args},
            }
            reply = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
            self.session = f"/session/{reply['sessionId']}"
            # A script may run as long as an HTTP call may wait (the default is 30 s).
            ms = int(timeout * 1000)
            self._call("POST", f"{self.session}/timeouts", {"script": ms, "pageLoad": ms})
        except BaseException:
            self._stop_driver()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if self._call("GET", "/status").get("ready"):
                    return
            except (OSError, RuntimeError):
                pass
            if self.driver.poll() is not None:
                raise EnvironmentError_(f"chromedriver exited with {self.driver.returncode}")
            time.sleep(0.1)
        raise EnvironmentError_("chromedriver did not start")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                payload = json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as exc:
            detail = json.loads(exc.read() or b"{}").get("value", {})
            raise RuntimeError(f"WebDriver {method} {path}: {detail.get('message', exc)}") from None
        return payload.get("value", payload)

    # -- the page --------------------------------------------------------------
    def get(self, url: str) -> None:
        self._call("POST", f"{self.session}/url", {"url": url})

    def find(self, css: str) -> str:
        return self._call(
            "POST", f"{self.session}/element", {"using": "css selector", "value": css}
        )[ELEMENT]

    def find_all(self, css: str) -> list[str]:
        found = self._call(
            "POST", f"{self.session}/elements", {"using": "css selector", "value": css}
        )
        return [e[ELEMENT] for e in found]

    def click(self, element: str) -> None:
        self._call("POST", f"{self.session}/element/{element}/click", {})

    def text(self, element: str) -> str:
        return self._call("GET", f"{self.session}/element/{element}/text")

    def run(self, script: str, *args: Any) -> Any:
        """Run JavaScript in the page (``return`` gives a value back)."""
        return self._call(
            "POST", f"{self.session}/execute/sync", {"script": script, "args": list(args)}
        )

    def wait_for(self, script: str, timeout: float = 30.0) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(f"return ({script});")
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"page never satisfied {script!r}")
            time.sleep(0.05)

    def screenshot(self, path: str | Path) -> Path:
        """The viewport as a PNG file."""
        png = base64.b64decode(self._call("GET", f"{self.session}/screenshot"))
        Path(path).write_bytes(png)
        return Path(path)

    def resize(self, width: int, height: int) -> None:
        self._call("POST", f"{self.session}/window/rect", {"width": width, "height": height})

    # -- ending ----------------------------------------------------------------
    def quit(self) -> None:
        try:
            self._call("DELETE", self.session)
        except (OSError, RuntimeError):
            pass
        finally:
            self._stop_driver()

    def _stop_driver(self) -> None:
        # The driver leads its own process group (start_new_session), which
        # holds the browser it launched: end the group, not just the driver.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.driver.pid, signal.SIGTERM)
        try:
            self.driver.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.driver.pid, signal.SIGKILL)
            self.driver.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def close(self) -> None:
        self.quit()
