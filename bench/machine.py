"""What this machine does in the same run as a benchmark: the raw sha512 speed, the scale
every benchmark states its figures against."""

from __future__ import annotations

import hashlib
import os
import time


def raw_sha512_mb_s() -> float:
    data = os.urandom(64 * 1024 * 1024)
    t = time.perf_counter()
    for _ in range(4):
        hashlib.sha512(data).digest()
    return 4 * 64 / (time.perf_counter() - t)
