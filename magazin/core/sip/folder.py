"""Read a plain folder SIP: every regular file below it, never following symbolic links."""

from __future__ import annotations

import os
import stat
from functools import partial
from pathlib import Path

from ..i18n import N_
from ..problems import ProblemList
from .model import PayloadFile
from .safety import check_relative_path


def _open(path: str):
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def scan_folder(
    root: Path, problems: ProblemList, skip: set[str] | None = None, prefix: str = ""
) -> list[PayloadFile]:
    """List regular files under `root` as payload; symlinks and special files are problems."""
    files: list[PayloadFile] = []
    skip = skip or set()
    stack = [(str(root), "")]
    while stack:
        absdir, rel = stack.pop()
        try:
            entries = sorted(os.scandir(absdir), key=lambda e: e.name)
        except OSError as e:
            problems.add(
                prefix + rel or ".",
                N_("cannot read folder: {error}").format(error=e.strerror),
                "unreadable",
            )
            continue
        for entry in entries:
            relpath = f"{rel}/{entry.name}" if rel else entry.name
            shown = prefix + relpath
            if relpath in skip:
                continue
            if not check_relative_path(relpath, problems, shown):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as e:
                problems.add(
                    shown, N_("cannot read: {error}").format(error=e.strerror), "unreadable"
                )
                continue
            if stat.S_ISLNK(st.st_mode):
                target = os.readlink(entry.path)
                resolved = os.path.realpath(entry.path)
                inside = resolved.startswith(os.path.realpath(root) + os.sep)
                problems.add(
                    shown,
                    (
                        N_(
                            "symbolic link to {target!r} (inside the SIP): links are not taken "
                            "into the archive; deliver the file itself"
                        )
                        if inside
                        else N_(
                            "symbolic link to {target!r} (outside the SIP): links are not taken "
                            "into the archive; deliver the file itself"
                        )
                    ).format(target=target),
                    "symlink" if inside else "symlink-outside",
                )
            elif stat.S_ISDIR(st.st_mode):
                stack.append((entry.path, relpath))
            elif stat.S_ISREG(st.st_mode):
                if not os.access(entry.path, os.R_OK):
                    problems.add(shown, N_("file is not readable"), "unreadable")
                    continue
                files.append(PayloadFile(relpath, st.st_size, partial(_open, entry.path)))
            else:
                problems.add(
                    shown, N_("not a regular file (device, socket or pipe)"), "special-file"
                )
    files.sort(key=lambda f: f.path)
    return files
