"""Debian's headless Chromium, run as a subprocess on a local HTML file.

Flags: a new empty profile, no sandbox (CI runs as root), no GPU, and no background networking
(the machines have no network but the package registries; Chromium's own calls would be refused).
``make browser`` installs Chromium when it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    # Nothing the page asks for can come from the network: proves the report is self-contained.
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def chromium() -> Path | None:
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    return Path(found) if found else None


def _run(page: Path, extra: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    browser = chromium()
    if browser is None:
        raise RuntimeError("Chromium is not installed: run `make browser` (Debian's chromium)")
    with tempfile.TemporaryDirectory(prefix="clm-chromium-") as profile:
        return subprocess.run(
            [str(browser), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def dump_dom(page: Path, *, budget_ms: int = 30000, timeout: float = 180) -> str:
    """The page's DOM after its scripts ran (virtual time lets timers and drawing finish)."""
    result = _run(page, ["--dump-dom", f"--virtual-time-budget={budget_ms}"], timeout)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError(
            f"chromium --dump-dom failed ({result.returncode}): {result.stderr[-2000:]}"
        )
    return result.stdout


def screenshot(
    page: Path,
    png: Path,
    *,
    width: int = 1400,
    height: int = 4000,
    budget_ms: int = 30000,
    timeout: float = 180,
) -> Path:
    """A PNG of the page at ``width`` x ``height`` CSS pixels."""
    png.parent.mkdir(parents=True, exist_ok=True)
    result = _run(
        page,
        [
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={budget_ms}",
        ],
        timeout,
    )
    if result.returncode != 0 or not png.exists():
        raise RuntimeError(
            f"chromium --screenshot failed ({result.returncode}): {result.stderr[-2000:]}"
        )
    return png
