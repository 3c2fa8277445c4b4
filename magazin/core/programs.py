"""The version of an external program (validator, converter), as the agents of PREMIS events
name it."""

from __future__ import annotations

import re
import subprocess
from functools import cache

_VERSION = re.compile(r"\d+(?:\.\d+)+[^\s,]*")  # 5.1.9-0+deb12u1, 23.03, 7.4.7.2


@cache
def program_version(*command: str) -> str | None:
    """The first version number the command prints (e.g. `ffmpeg -version`); None where the
    program is missing or says none."""
    try:
        out = subprocess.run(list(command), capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL).stdout  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = _VERSION.search(out)
    return m.group(0) if m else None
