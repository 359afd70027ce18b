"""Files the monitor writes are private to the user: folders 0700, files 0600 (whatever the umask says).

Captures, their sidecars and the database hold a person's posture and activity all day; other accounts on
the machine have no business reading them. Use these instead of `Path.mkdir` / `open` / `write_text`
for anything under the data or captures folders.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | Path) -> Path:
    """Create `path` and its missing parents as 0700 folders (existing ones are left as they are)."""
    p = Path(path)
    missing = []
    q = p
    while not q.exists():
        missing.append(q)
        if q.parent == q:
            break
        q = q.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask
    return p


def open_private_append(path: str | Path) -> int:
    """An O_APPEND file descriptor for `path`, created 0600 if it is new."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)


def write_private_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` (created or truncated), as a 0600 file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with open(fd, "w", encoding="utf-8") as f:
        f.write(text)


def make_private(path: str | Path) -> None:
    """Take group and other permissions off an existing file (e.g. a database another library created);
    the owner's bits stay as they are (a file the user made read-only stays read-only)."""
    p = Path(path)
    if p.exists():
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode & 0o077:
            os.chmod(p, mode & ~0o077)


__all__ = ["DIR_MODE", "FILE_MODE", "make_private", "open_private_append", "private_dir", "write_private_text"]
