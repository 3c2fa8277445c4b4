"""Limits that protect the archive from hostile containers (zip bombs, entry floods)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 4 * 1024**4  # uncompressed size of one container
    max_ratio: int = 200  # uncompressed/compressed, per entry (entries above 1 MiB)
    max_total_ratio: int = 100  # whole container, when it unpacks to more than 100 MiB
    max_entries: int = 2_000_000
