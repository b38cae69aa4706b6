"""Headless Chromium for the page tests: one load gives the DOM, the console messages and a screenshot."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

CHROMIUM = "/usr/bin/chromium"


def artifacts(tmp_path: pathlib.Path) -> pathlib.Path:
    """Where screenshots go: ``$FAULTLAB_ARTIFACTS`` (the CI output folder) if set, else this test's tmp dir."""
    folder = pathlib.Path(os.environ.get("FAULTLAB_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load_in_chromium(page: pathlib.Path, shot: pathlib.Path, profile: pathlib.Path,
                     size: str = "1400,900") -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium once: its DOM after load, its console messages, and a screenshot."""
    res = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", f"--window-size={size}",
         f"--screenshot={shot}", "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout, [line for line in res.stderr.splitlines() if ":CONSOLE" in line]


needs_chromium = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                    reason=f"headless Chromium not installed at {CHROMIUM} (apt-get install chromium)")
