"""The stack dir's state and logs are readable by their owner only.

The stack dir itself is 0711: other users may pass through it but not list it, which the
servers that run as an unprivileged user (Elasticsearch refuses root; nginx's workers) need
to reach their own folders. Everything in it is 0700 (folders) or 0600 (files), so the
files deeper down are out of reach whatever their own modes.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

# Who the servers that must not run as root run as, when the stack is started by root.
UNPRIVILEGED = ("nobody", "nogroup")

STACK_DIR_MODE = 0o711
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and its parents) if missing and make it 0700."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIR_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file that is 0600 before anything is in it."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), PRIVATE_FILE_MODE)
        file.write(text)


def restrict_stack_dir(stack_dir: Path) -> None:
    """Make the stack dir 0711 and everything directly in it 0700 or 0600, keeping owners."""
    stack_dir.mkdir(parents=True, exist_ok=True)
    stack_dir.chmod(STACK_DIR_MODE)
    for entry in stack_dir.iterdir():
        mode = entry.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        entry.chmod(PRIVATE_DIR_MODE if stat.S_ISDIR(mode) else PRIVATE_FILE_MODE)


def closed_parent(path: Path) -> Path | None:
    """The nearest parent of `path` that other users (UNPRIVILEGED) may not pass through."""
    return next((parent for parent in path.parents if not parent.stat().st_mode & 0o001), None)


def check_reachable(path: Path) -> None:
    """Raise PermissionError unless other users (UNPRIVILEGED) may pass through every parent."""
    if (parent := closed_parent(path)) is not None:
        raise PermissionError(
            f"{UNPRIVILEGED[0]} cannot enter {parent}: chmod o+x {parent}, "
            f"or choose a stack_dir outside it"
        )


def hand_over(path: Path) -> None:
    """Give `path` and everything in it to UNPRIVILEGED, after checking it can reach `path`."""
    check_reachable(path)
    user, group = UNPRIVILEGED
    for folder, _, files in os.walk(path):
        shutil.chown(folder, user, group)
        for file in files:
            shutil.chown(Path(folder, file), user, group)
