"""Checks every SIP kind shares: safe relative paths and names that do not collide."""

from __future__ import annotations

import unicodedata

from ..i18n import N_
from ..problems import ProblemList

# Names a file system or an operating system treats specially; never valid path segments.
_BAD_SEGMENTS = {"", ".", ".."}


def check_relative_path(path: str, problems: ProblemList, where: str | None = None) -> bool:
    """A path inside a SIP must be relative, stay inside, and hold no control characters."""
    shown = where or path
    if path.startswith("/") or path.startswith("\\") or (len(path) > 1 and path[1] == ":"):
        problems.add(
            shown, N_("absolute path: the entry would be written outside the SIP"), "unsafe-path"
        )
        return False
    if "\\" in path:
        problems.add(shown, N_("backslash in path: not a portable relative path"), "unsafe-path")
        return False
    segments = path.split("/")
    if any(s in _BAD_SEGMENTS for s in segments):
        if ".." in segments:
            problems.add(shown, N_("path leaves the SIP ('..')"), "unsafe-path")
        else:
            problems.add(shown, N_("empty or '.' path segment"), "unsafe-path")
        return False
    if path.startswith("~"):
        problems.add(shown, N_("path starts with '~' (home directory shortcut)"), "unsafe-path")
        return False
    if any(unicodedata.category(c) == "Cc" for c in path):
        problems.add(shown, N_("control character in file name"), "bad-name")
        return False
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        problems.add(shown, N_("file name is not valid Unicode"), "bad-name")
        return False
    return True


def collision_key(path: str) -> str:
    """Two names that map to the same key cannot both live on every file system."""
    return unicodedata.normalize("NFC", path).casefold()


def check_collisions(paths: list[str], problems: ProblemList) -> None:
    """Reject names that collide after Unicode normalisation or case folding (also dir/file)."""
    seen: dict[str, str] = {}
    for p in paths:
        k = collision_key(p)
        if k in seen and seen[k] != p:
            a, b = seen[k], p
            if unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b):
                why = N_("name collides with {other!r}: the two differ only in Unicode "
                         "normalisation (NFC/NFD)")  # fmt: skip
            else:
                why = N_("name collides with {other!r}: the two differ only in letter case")
            problems.add(p, why.format(other=a), "name-collision")
        else:
            seen.setdefault(k, p)
    # a file whose name is also used as a folder name
    dirs: dict[str, str] = {}
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            dirs.setdefault(collision_key(d), d)
    for p in paths:
        k = collision_key(p)
        if k in dirs:
            problems.add(
                p,
                N_("name is used both as a file and as the folder {folder!r}").format(
                    folder=dirs[k]
                ),
                "name-collision",
            )
