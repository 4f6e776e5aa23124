"""One pipeline run at a time per warehouse: an OS file lock next to the warehouse file.

The lock is ``fcntl.flock`` on ``<warehouse>.run-lock``: the kernel releases it when the holder
exits or dies (even ``kill -9``), so a crashed run never leaves a lock behind. The file holds
the holder's pid and start time, only to tell the next caller who is running.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class RunInProgress(RuntimeError):
    """Another process holds the run lock of this warehouse."""


@dataclass
class RunLock:
    path: Path
    fd: int

    def release(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)


def lock_path(warehouse: Path) -> Path:
    """The lock file of a warehouse file."""
    return warehouse.with_name(warehouse.name + ".run-lock")


def acquire(warehouse: Path) -> RunLock:
    """Take the run lock at once, or raise ``RunInProgress`` saying who holds it."""
    path = lock_path(warehouse)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise RunInProgress(
            f"another run is in progress (pid {holder.get('pid', '?')}, started "
            f"{holder.get('started', '?')}) on {warehouse}; wait for it to finish"
        ) from None
    os.ftruncate(fd, 0)
    record = {"pid": os.getpid(), "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}
    os.pwrite(fd, json.dumps(record).encode(), 0)
    return RunLock(path, fd)


def _holder(fd: int) -> dict[str, object]:
    try:
        return json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        return {}
