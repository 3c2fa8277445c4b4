"""The data folder (MAGAZIN_HOME) and its magazin.toml: storage locations and replication."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .sip.limits import Limits
from .storage.locks import ObjectLocks

DEFAULT_TOML = """\
# Magazin configuration. Paths are relative to this folder unless absolute.

# Storage locations: places that hold one OCFL storage root per tenant.
[[locations]]
name = "local-1"
type = "filesystem"
path = "storage/local-1"

[[locations]]
name = "local-2"
type = "filesystem"
path = "storage/local-2"

# How many copies of every AIP, and where. Ingest writes and verifies all of them.
[replication]
locations = ["local-1", "local-2"]

# Protection against hostile containers.
[limits]
zip_max_total_bytes = 4398046511104   # 4 TiB unpacked
zip_max_ratio = 200                   # per entry larger than 1 MiB
zip_max_total_ratio = 100             # whole ZIP, when it unpacks to more than 100 MiB

# Folders the web ingest offers: <drop_area>/<tenant>/<folder or container>.
[ingest]
drop_area = "drop"
"""


class ConfigError(Exception):
    """magazin.toml is missing something or names something that does not exist."""


class NoArchive(ConfigError):
    """The data folder holds no archive: only `magazin init` creates one."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(
            f"no archive in {path} (no magazin.toml there). Set MAGAZIN_HOME to the folder "
            f"of your archive, or run `magazin init` to create one in {path}."
        )


@dataclass
class LocationConfig:
    name: str
    type: str
    path: Path


@dataclass
class Home:
    path: Path
    locations: list[LocationConfig] = field(default_factory=list)
    replication: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    drop_area: Path | None = None

    @property
    def toml(self) -> Path:
        return self.path / "magazin.toml"

    @property
    def quarantine(self) -> Path:
        return self.path / "quarantine"

    @property
    def journal(self) -> Path:
        return self.path / "journal"

    @property
    def locks(self) -> ObjectLocks:
        """Locks on stored objects, shared by every process on this machine."""
        return ObjectLocks(self.path / "locks")

    @property
    def uploads(self) -> Path:
        """Containers uploaded through the web or API, one folder per ingest job."""
        return self.path / "uploads"

    def drop_folder(self, tenant: str) -> Path:
        """The tenant's part of the drop area (default MAGAZIN_HOME/drop/<tenant>)."""
        return (self.drop_area or self.path / "drop") / tenant

    @property
    def tmp(self) -> Path:
        return self.path / "tmp"

    def location(self, name: str) -> LocationConfig:
        for loc in self.locations:
            if loc.name == name:
                return loc
        raise ConfigError(f"{self.toml}: no storage location named {name!r}")

    def replica_locations(self) -> list[LocationConfig]:
        return [self.location(n) for n in self.replication]


def home_path() -> Path:
    """MAGAZIN_HOME, or the user's data folder: ${XDG_DATA_HOME:-~/.local/share}/magazin (never
    the current directory, so that a command run elsewhere finds the same archive)."""
    if os.environ.get("MAGAZIN_HOME"):
        return Path(os.environ["MAGAZIN_HOME"]).expanduser().absolute()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "magazin"


def init_home(path: Path | None = None) -> Home:
    """Create the data folder with the default magazin.toml (two local locations) where there
    is none; an existing archive is only read. The one way an archive comes into being."""
    path = (path or home_path()).absolute()
    toml = path / "magazin.toml"
    if not toml.exists():
        path.mkdir(parents=True, exist_ok=True)
        tmp = toml.with_name(".magazin.toml.tmp")
        tmp.write_text(DEFAULT_TOML, encoding="utf-8")
        os.replace(tmp, toml)  # two `init`s at once: either file is whole
    return load_home(path)


def load_home(path: Path | None = None) -> Home:
    """Read MAGAZIN_HOME/magazin.toml; a folder without one holds no archive (NoArchive)."""
    path = (path or home_path()).absolute()
    toml = path / "magazin.toml"
    if not toml.is_file():
        raise NoArchive(path)
    try:
        data = tomllib.loads(toml.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{toml}: {e}") from e
    locs = []
    for entry in data.get("locations", []):
        try:
            name, p = entry["name"], Path(entry["path"])
        except KeyError as e:
            raise ConfigError(f"{toml}: a [[locations]] entry lacks {e}") from e
        kind = entry.get("type", "filesystem")
        if kind != "filesystem":
            raise ConfigError(f"{toml}: location {name!r}: type {kind!r} is not supported yet")
        locs.append(LocationConfig(name, kind, p if p.is_absolute() else path / p))
    if not locs:
        raise ConfigError(f"{toml}: no [[locations]] configured")
    rep = data.get("replication", {}).get("locations") or [loc.name for loc in locs]
    lim = data.get("limits", {})
    limits = Limits(
        max_total_bytes=int(lim.get("zip_max_total_bytes", Limits.max_total_bytes)),
        max_ratio=int(lim.get("zip_max_ratio", Limits.max_ratio)),
        max_total_ratio=int(lim.get("zip_max_total_ratio", Limits.max_total_ratio)),
    )
    drop = data.get("ingest", {}).get("drop_area")
    drop_area = None
    if drop:
        drop_area = Path(drop) if Path(drop).is_absolute() else path / drop
    home = Home(path, locs, list(rep), limits, drop_area)
    for n in rep:
        home.location(n)
    return home
