"""A storage location on a file system: one OCFL storage root per tenant, staging beside them."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from ..config import LocationConfig
from . import layout
from .ocfl import init_storage_root

_libc = None


def _syncfs(path: Path) -> None:
    """Flush one file system (one call per batch instead of one fsync per file)."""
    global _libc
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(_libc, "syncfs") or _libc.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def sync_all(locations: list[FilesystemLocation]) -> None:
    """Flush the file systems of these locations, each file system once."""
    seen = set()
    for loc in locations:
        dev = os.stat(loc.path).st_dev
        if dev not in seen:
            seen.add(dev)
            loc.sync()


class FilesystemLocation:
    """Storage roots at `<path>/roots/<tenant>`; staging at `<path>/staging` (same file system)."""

    def __init__(self, config: LocationConfig):
        self.name = config.name
        self.path = config.path

    def root(self, tenant: str) -> Path:
        return self.path / "roots" / tenant

    def ensure_root(self, tenant: str) -> Path:
        r = self.root(tenant)
        init_storage_root(r)
        return r

    def tenants(self) -> list[str]:
        d = self.path / "roots"
        return sorted(p.name for p in d.iterdir() if p.is_dir()) if d.exists() else []

    @property
    def staging(self) -> Path:
        p = self.path / "staging"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def object_dir(self, tenant: str, object_id: str) -> Path:
        return self.root(tenant) / layout.object_path(object_id)

    def sync(self) -> None:
        _syncfs(self.path)

    def __repr__(self) -> str:
        return f"FilesystemLocation({self.name!r}, {str(self.path)!r})"
