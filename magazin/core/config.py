"""The data folder (MAGAZIN_HOME) and its magazin.toml: storage locations and replication."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .formats.validators import ValidatorPolicy
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

# Fixity: the worker checks every copy at least once per cycle, spread evenly over it.
[audit]
cycle_days = 90
# max_mb_per_s = 50                   # reading for checks at most this fast

# Validation of every file by its format, at ingest and with `magazin formats validate`:
# each file's run is cut off after timeout_s and may use memory_mb; workers run at once.
[validators]
timeout_s = 60
memory_mb = 1536
workers = 2
# verapdf = "/opt/verapdf/verapdf"    # veraPDF decides PDF/A conformance where configured

# OAI-PMH (/oai/<tenant>/, switched on per tenant): the repository identifier in every record
# identifier (oai:<repository_identifier>:<AID>) - a domain name that stays when the host
# name changes - and the address harvesters write to.
[oai]
repository_identifier = "magazin.example.org"
admin_email = "archiv@example.org"

# The archive journal (every action, hash-chained): its queue goes into storage as a new
# segment once the oldest entry has waited this long. With a time-stamping authority (RFC
# 3161), the worker time-stamps each tenant's journal and new AIP versions at least every
# timestamp_hours (evidence records, RFC 4998).
[evidence]
journal_minutes = 60
# tsa_url = "https://tsa.example.org/tsp"
# tsa_certificate = "tsa-ca.pem"          # the TSA's certificate, or the CA above it
# tsa_user = "archiv"                     # where the service needs credentials:
# tsa_password_env = "MAGAZIN_TSA_PASSWORD"   # or tsa_password_file = "/etc/magazin/tsa"
# tsa_client_cert = "client.pem"  tsa_client_key = "client.key"
# timestamp_hours = 24
# hash = "sha256"                         # of new evidence records
# renew_days = 180                        # re-time-stamp this long before a TSA cert expires
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
    """One [[locations]] entry. `filesystem`: `path`. `s3`: endpoint, bucket, optional prefix,
    region and object_lock_days; the credentials come from the environment variables named by
    access_key_env/secret_key_env (default AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)."""

    name: str
    type: str
    path: Path | None = None
    endpoint: str | None = None
    bucket: str | None = None
    prefix: str = ""
    region: str | None = None
    object_lock_days: int | None = None
    access_key_env: str = "AWS_ACCESS_KEY_ID"
    secret_key_env: str = "AWS_SECRET_ACCESS_KEY"
    timeout: float = 60.0  # seconds without an answer before a request counts as failed
    retries: int = 5  # attempts per request, with growing pauses between


@dataclass
class AuditPolicy:
    """[audit]: every copy is checked at least once per `cycle_days`, the checks spread evenly
    over the cycle, reading at most `max_mb_per_s` (None: no limit)."""

    cycle_days: int = 90
    max_mb_per_s: float | None = None


# hash algorithms BSI TR-02102-1 (2025) lists as suitable beyond 2031
SECURE_HASHES = ("sha256", "sha384", "sha512", "sha512_256", "sha3_256", "sha3_384",
                 "sha3_512")  # fmt: skip


@dataclass
class EvidencePolicy:
    """[evidence]: the journal's queue goes into storage as a segment once its oldest entry
    is `journal_minutes` old; the time-stamping authority (RFC 3161) the worker asks at least
    every `timestamp_hours`, with the certificate(s) to trust and the credentials it needs
    (from files or the environment, never from magazin.toml itself); the hash of new
    evidence records; renewal `renew_days` before a time-stamp's certificate expires, and
    the hashes still considered secure."""

    journal_minutes: int = 60
    tsa_url: str | None = None
    tsa_certificate: Path | None = None
    tsa_user: str | None = None
    tsa_password_file: Path | None = None
    tsa_password_env: str | None = None
    tsa_client_cert: Path | None = None
    tsa_client_key: Path | None = None
    timestamp_hours: int = 24
    hash: str = "sha256"
    renew_days: int = 180
    secure_hashes: tuple[str, ...] = SECURE_HASHES

    def password(self) -> str | None:
        if self.tsa_password_env:
            return os.environ.get(self.tsa_password_env)
        if self.tsa_password_file:
            return self.tsa_password_file.read_text("utf-8").strip()
        return None


def _evidence(toml: Path, home: Path, entry: dict) -> EvidencePolicy:
    d = EvidencePolicy()

    def whole(key: str, low: int) -> int:
        value = entry.get(key, getattr(d, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{toml}: [evidence] {key} must be a whole number >= {low}")
        return value

    def path(key: str) -> Path | None:
        value = entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{toml}: [evidence] {key} must be the path of a file")
        return Path(value) if Path(value).is_absolute() else home / value

    if "tsa_password" in entry:
        raise ConfigError(f"{toml}: [evidence] the TSA password does not belong in magazin.toml: "
                          "use tsa_password_file or tsa_password_env")  # fmt: skip
    url = entry.get("tsa_url")
    if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
        raise ConfigError(f"{toml}: [evidence] tsa_url must be an http(s) URL")
    if url and entry.get("tsa_certificate") is None:
        raise ConfigError(f"{toml}: [evidence] tsa_url needs tsa_certificate (the TSA's "
                          "certificate, or the CA above it, to trust)")  # fmt: skip
    algorithm = entry.get("hash", d.hash)
    secure = tuple(entry.get("secure_hashes", d.secure_hashes))
    if algorithm not in secure:
        raise ConfigError(f"{toml}: [evidence] hash {algorithm!r} is not among secure_hashes")
    return EvidencePolicy(
        whole("journal_minutes", 1), url or None, path("tsa_certificate"),
        entry.get("tsa_user"), path("tsa_password_file"), entry.get("tsa_password_env"),
        path("tsa_client_cert"), path("tsa_client_key"), whole("timestamp_hours", 1),
        algorithm, whole("renew_days", 1), secure,
    )  # fmt: skip


@dataclass
class OaiPolicy:
    repository_identifier: str = "magazin.example.org"
    admin_email: str = "archiv@example.org"


# OAI-PMH's repositoryIdentifier (the oai-identifier scheme: a domain name)
_REPOSITORY_IDENTIFIER = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")


def _oai(toml: Path, entry: dict) -> OaiPolicy:
    policy = OaiPolicy(str(entry.get("repository_identifier", OaiPolicy.repository_identifier)),
                       str(entry.get("admin_email", OaiPolicy.admin_email)))  # fmt: skip
    if not _REPOSITORY_IDENTIFIER.match(policy.repository_identifier):
        raise ConfigError(f"{toml}: [oai] repository_identifier must be a domain name like "
                          f"archiv.example.org, not {policy.repository_identifier!r}")  # fmt: skip
    if "@" not in policy.admin_email:
        raise ConfigError(f"{toml}: [oai] admin_email must be an e-mail address")
    return policy


@dataclass
class Home:
    path: Path
    locations: list[LocationConfig] = field(default_factory=list)
    replication: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    drop_area: Path | None = None
    audit: AuditPolicy = field(default_factory=AuditPolicy)
    validators: ValidatorPolicy = field(default_factory=ValidatorPolicy)
    oai: OaiPolicy = field(default_factory=OaiPolicy)
    evidence: EvidencePolicy = field(default_factory=EvidencePolicy)

    @property
    def toml(self) -> Path:
        return self.path / "magazin.toml"

    @property
    def quarantine(self) -> Path:
        return self.path / "quarantine"

    @property
    def recovery(self) -> Path:
        """What a killed ingest or change left for the next run to complete."""
        return self.path / "recovery"

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


def _location(toml: Path, home: Path, entry: dict) -> LocationConfig:
    """One [[locations]] entry, checked: a clear error names the entry and what is wrong."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise ConfigError(f"{toml}: a [[locations]] entry lacks 'name'")
    name = entry["name"]
    kind = entry.get("type", "filesystem")

    def need(key: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{toml}: location {name!r} ({kind}) lacks {key!r}")
        return value

    if kind == "filesystem":
        p = Path(need("path"))
        return LocationConfig(name, kind, p if p.is_absolute() else home / p)
    if kind == "s3":
        days = entry.get("object_lock_days")
        if days is not None and (not isinstance(days, int) or days < 1):
            raise ConfigError(f"{toml}: location {name!r}: object_lock_days must be a whole "
                              "number of days, at least 1")  # fmt: skip
        for key in ("access_key", "secret_key"):
            if key in entry:
                raise ConfigError(
                    f"{toml}: location {name!r}: credentials never go into magazin.toml; "
                    f"name the environment variable that holds them ({key}_env)"
                )
        return LocationConfig(
            name,
            kind,
            endpoint=need("endpoint"),
            bucket=need("bucket"),
            prefix=str(entry.get("prefix", "")).strip("/"),
            region=entry.get("region"),
            object_lock_days=days,
            access_key_env=entry.get("access_key_env", "AWS_ACCESS_KEY_ID"),
            secret_key_env=entry.get("secret_key_env", "AWS_SECRET_ACCESS_KEY"),
            timeout=_number(toml, name, entry, "timeout", 60.0),
            retries=int(_number(toml, name, entry, "retries", 5)),
        )
    raise ConfigError(f"{toml}: location {name!r}: unknown type {kind!r} (filesystem or s3)")


def _number(toml: Path, name: str, entry: dict, key: str, default: float) -> float:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{toml}: location {name!r}: {key} must be a positive number")
    return value


def set_replication(home: Home, names: list[str]) -> Path:
    """Rewrite the [replication] locations of magazin.toml (the rest of the file, comments
    included, stays as it is); the previous file is kept beside it under a dated name, which
    is returned."""
    text = home.toml.read_text("utf-8")
    line = "locations = [" + ", ".join(f'"{n}"' for n in names) + "]"
    section = re.search(r"(?ms)^\[replication\][^\n]*\n(.*?)(?=^\[|\Z)", text)
    if section is None:
        new = text.rstrip("\n") + f"\n\n[replication]\n{line}\n"
    else:
        body = section.group(1)
        entry = re.search(r"(?ms)^locations\s*=\s*\[.*?\][^\n]*$", body)
        body = (body[: entry.start()] + line + body[entry.end() :]) if entry else line + "\n" + body
        new = text[: section.start(1)] + body + text[section.end(1) :]
    if tomllib.loads(new).get("replication", {}).get("locations") != names:
        raise ConfigError(f"{home.toml}: cannot rewrite its [replication] section")
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    backup = home.toml.with_name(f"magazin.toml.{stamp}")
    shutil.copy2(home.toml, backup)
    tmp = home.toml.with_name(".magazin.toml.tmp")
    tmp.write_text(new, "utf-8")
    os.replace(tmp, home.toml)
    home.replication = list(names)
    return backup


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


def _validators(toml: Path, home: Path, v: dict) -> ValidatorPolicy:
    """[validators], checked: a clear error names the key and what it must be."""
    d = ValidatorPolicy()
    timeout, memory, workers = (v.get("timeout_s", d.timeout_s), v.get("memory_mb", d.memory_mb),
                                v.get("workers", d.workers))  # fmt: skip
    for key, value, low in (("timeout_s", timeout, 1), ("memory_mb", memory, 128),
                            ("workers", workers, 1)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
            raise ConfigError(f"{toml}: [validators] {key} must be a number >= {low}")
    verapdf = v.get("verapdf")
    if verapdf is not None and not isinstance(verapdf, str):
        raise ConfigError(f"{toml}: [validators] verapdf must be the path of a command")
    return ValidatorPolicy(float(timeout), int(memory), int(workers), verapdf or None,
                           bool(v.get("enabled", True)), str(home))  # fmt: skip


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
    locs = [_location(toml, path, entry) for entry in data.get("locations", [])]
    names = [loc.name for loc in locs]
    if len(set(names)) != len(names):
        raise ConfigError(f"{toml}: two [[locations]] entries have the same name")
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
    aud = data.get("audit", {})
    cycle = aud.get("cycle_days", 90)
    rate = aud.get("max_mb_per_s")
    if isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < 1:
        raise ConfigError(f"{toml}: [audit] cycle_days must be a whole number of days, >= 1")
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float)
                             or rate <= 0):  # fmt: skip
        raise ConfigError(f"{toml}: [audit] max_mb_per_s must be a positive number")
    home = Home(path, locs, list(rep), limits, drop_area, AuditPolicy(cycle, rate),
                _validators(toml, path, data.get("validators", {})),
                _oai(toml, data.get("oai", {})),
                _evidence(toml, path, data.get("evidence", {})))  # fmt: skip
    for n in rep:
        home.location(n)
    return home
