"""report.html in real headless Chromium: every plot decodes at its true size and the page shows it.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages ending in a
NUL byte, Chromium reads fd 3 and writes fd 4), so no extra package and no network port are needed.
"""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from safetuned.reporting.tables import summarize_sweep
from tests.test_report import make_sweep

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--window-size=1280,2000"]
TAB_BLUE = np.array([31, 119, 180]) / 255  # matplotlib's first line colour; the page's CSS never uses it


def browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        pytest.skip("headless Chromium is not installed: run `make install-browser`")
    return found


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, exe: str, profile: Path, url: str) -> None:
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def wire() -> None:  # runs in the child: the pipe ends must be fds 3 and 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", url],
            preexec_fn=wire,  # noqa: PLW1509 - pytest runs this single-threaded
            pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._id = b"", 0

    def call(self, method: str, session: str | None = None, timeout: float = 30, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self._id:
                    assert "error" not in reply, reply["error"]
                    return reply["result"]
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError(f"no DevTools reply to {method}")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self._w)
        os.close(self._r)


LOADED_IMAGES = """
new Promise(done => document.readyState === "complete" ? done() : addEventListener("load", done))
  .then(() => Promise.all(Array.from(document.images).map(img => img.decode().then(
      () => ({w: img.naturalWidth, h: img.naturalHeight, shown: img.getBoundingClientRect().width}),
      () => ({w: 0, h: 0, shown: 0})))))
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    exe = browser()
    tmp = tmp_path_factory.mktemp("browser")
    report = summarize_sweep(make_sweep(tmp))
    chrome = DevTools(exe, tmp / "profile", "about:blank")
    try:
        target = next(t for t in chrome.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        session = chrome.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        chrome.call("Emulation.setDeviceMetricsOverride", session, width=1280, height=2000, deviceScaleFactor=1,
                    mobile=False)
        chrome.call("Page.navigate", session, url=report.files["html"].as_uri())  # replies once committed
        images = chrome.call("Runtime.evaluate", session, expression=LOADED_IMAGES, awaitPromise=True,
                             returnByValue=True)["result"]["value"]
        shot = chrome.call("Page.captureScreenshot", session, format="png")["data"]
        text = chrome.call("Runtime.evaluate", session, expression="document.body.innerText",
                           returnByValue=True)["result"]["value"]
    finally:
        chrome.close()
    (tmp / "screenshot.png").write_bytes(base64.b64decode(shot))
    return report, images, mpimg.imread(io.BytesIO(base64.b64decode(shot)), format="png"), text


def test_every_plot_decodes_at_its_size(page):
    report, images, _, _ = page
    assert len(images) == len(report.plots) == 5
    for img, path in zip(images, report.plots.values()):
        h, w = mpimg.imread(path).shape[:2]
        assert (img["w"], img["h"]) == (w, h), path.name
        assert img["shown"] > 600  # laid out wide enough to read


def test_screenshot_shows_plots_and_failures(page):
    _, _, shot, text = page
    rgb = shot[..., :3]
    assert rgb.shape[:2] == (2000, 1280)
    line_pixels = (np.abs(rgb - TAB_BLUE).max(axis=-1) < 0.08).sum()
    assert line_pixels > 2000, "no plot lines visible in the first screen"
    assert "Failed or unfinished jobs (2)" in text and "safety pool too small" in text
    assert "6 completed" in text
