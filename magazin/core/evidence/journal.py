"""The archive journal: every action that changes what a tenant's archive holds or decides,
hash-chained, so that an entry edited, deleted, inserted or moved later is found.

An entry names the time, the actor (a pseudonym, never a name), the action, the objects and
versions concerned with the SHA-256 of each version's `vN/inventory.json` (which never
changes), details, and the hash of the entry before it. Entries are queued the moment the
action is stored - appended under a short file lock to `MAGAZIN_HOME/evidence/<tenant>/
queue.jsonl`, the chain computed then and the line synced - so that no process waits on
another for longer than one append. `flush` commits the queue to storage in segments: one new
version of the OCFL object `urn:magazin:<tenant>:journal` each, holding only its new segment
(with the object's METS and PREMIS), so that its inventory grows by a line per segment. Nothing
stored is ever rewritten.

An entry line is the canonical JSON (keys sorted, no spaces, UTF-8) of its fields; its `hash`
is the SHA-256 of that JSON without the `hash` field. The first entry's `prev` is 64 zeros.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..ids import is_evidence_id, journal_id, now
from ..storage.ocfl import NewFile, OcflError, VersionInfo

GENESIS = "0" * 64
FOUND_PER_ENTRY = 1000
SEGMENT = re.compile(r"^journal/(\d{12})-(\d{12})\.jsonl$")

# What the journal records, said once: the action names entries carry.
ACTIONS = {
    "ingest": "AIPs stored by an ingest",
    "record": "a tenant, fonds or accession description stored or changed",
    "correction": "a description corrected",
    "access decision": "a release or grant made or ended",
    "appraisal": "an xdomea process and its appraisal decisions kept",
    "migration": "a new representation stored by a migration",
    "validation": "format validation results stored",
    "repair": "a damaged or missing copy repaired",
    "fixity": "a day's fixity checks stored in the audit log",
    "location": "where the copies are kept changed",
    "user": "a user account created, changed or removed",
    "role": "a user's role in the tenant changed",
    "import": "descriptions updated from the archive information system",
    "found": "a version stored before the journal began, recorded when it began",
}


class JournalError(Exception):
    """The journal cannot be read or written (a clear message names the file)."""


def canonical(entry: dict) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: dict) -> str:
    """The SHA-256 of an entry's canonical JSON without its own hash."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def inventory_digest(obj, version: str) -> str:
    """SHA-256 of the object's `<version>/inventory.json` as stored."""
    h = hashlib.sha256()
    with obj.open_content(f"{version}/inventory.json") as f:
        while chunk := f.read(1 << 16):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Touched:
    """An object version an action stored."""

    id: str
    version: str
    inventory: str  # SHA-256 of vN/inventory.json

    def as_dict(self) -> dict:
        return {"id": self.id, "version": self.version, "inventory": self.inventory}


@dataclass
class Planned:
    """An entry to be written once its versions are stored (kept in a change's recovery
    record, so that a run killed between storing and journaling is journaled by whoever
    completes it)."""

    action: str
    user: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"action": self.action, "user": self.user, "details": self.details}

    @classmethod
    def from_dict(cls, d: dict | None) -> Planned | None:
        return None if not d else cls(d["action"], d["user"], d.get("details") or {})


def _actor_key(home_path: Path) -> bytes:
    path = home_path / "evidence" / "actor_key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()  # another process made it meanwhile
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
            f.flush()
            os.fsync(f.fileno())
        return path.read_bytes()


def actor_id(home_path: Path, user: str) -> str:
    """A user's pseudonym in the journal: stable, and mapped back to the name only with the
    archive's key (MAGAZIN_HOME/evidence/actor_key), as grants name readers by pseudonym."""
    digest = hmac.new(_actor_key(home_path), user.encode(), hashlib.sha256).hexdigest()
    return f"urn:magazin:actor:{digest[:24]}"


def _description_files(obj) -> list[NewFile]:
    """The journal object's METS, PREMIS and DC as they are (OCFL keeps the bytes once)."""
    return [NewFile(p, None, d) for p, d in obj.state().items()
            if not SEGMENT.match(p) and not p.startswith("timestamps/")]  # fmt: skip


def _lines(data: bytes, source: str) -> Iterator[dict]:
    for n, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"_malformed": f"{source}: line {n} is not JSON"}
        if not isinstance(entry, dict):
            entry = {"_malformed": f"{source}: line {n} is not an entry"}
        yield entry


class Journal:
    """One tenant's journal: its queue in MAGAZIN_HOME and its object in storage."""

    def __init__(self, storage, tenant: str):
        self.storage = storage
        self.tenant = tenant
        self.home_path: Path = storage.home.path
        self.dir = self.home_path / "evidence" / tenant
        self.queue = self.dir / "queue.jsonl"
        self.object_id = journal_id(tenant)

    # -- appending --------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _queued(self) -> list[dict]:
        """The queue's whole lines (a line cut off by a kill is dropped: its action's
        recovery record journals it again)."""
        try:
            data = self.queue.read_bytes()
        except FileNotFoundError:
            return []
        whole = data[: data.rfind(b"\n") + 1]
        return list(_lines(whole, str(self.queue)))

    def _head(self, queued: list[dict]) -> tuple[int, str]:
        """(seq, hash) of the newest entry: the queue's last, else the newest stored."""
        if queued:
            return int(queued[-1]["seq"]), queued[-1]["hash"]
        try:
            head = json.loads((self.dir / "head.json").read_text("utf-8"))
            return int(head["seq"]), head["hash"]
        except (FileNotFoundError, ValueError, KeyError):
            pass
        newest = None
        for newest in self.stored():  # noqa: B007 - the last one is wanted
            pass
        return (int(newest["seq"]), newest["hash"]) if newest else (0, GENESIS)

    def append(self, action: str, user: str, objects: Iterable[Touched] = (),
               details: dict | None = None, time: str | None = None) -> dict:  # fmt: skip
        """Queue an entry, chained to the one before it; returns it."""
        if action not in ACTIONS:
            raise JournalError(f"no journal action {action!r}")
        objects = list(objects)
        with self._locked():
            queued = self._queued()
            self._cut_partial_line()
            head = self._head(queued)
            lines = []
            if head == (0, GENESIS):  # the first entry: what storage held before
                found = self._found({(o.id, o.version) for o in objects})
                for i in range(0, len(found), FOUND_PER_ENTRY):
                    head, line = self._entry(
                        head, "found", "magazin", found[i : i + FOUND_PER_ENTRY], {}, time
                    )
                    lines.append(line)
            head, line = self._entry(head, action, user, objects, details or {}, time)
            lines.append(line)
            with open(self.queue, "ab") as f:
                f.write(b"".join(lines))
                f.flush()
                os.fsync(f.fileno())
        return json.loads(line)

    def _entry(self, head: tuple[int, str], action: str, user: str, objects: list[Touched],
               details: dict, time: str | None) -> tuple[tuple[int, str], bytes]:  # fmt: skip
        entry = {"seq": head[0] + 1, "time": time or now(), "tenant": self.tenant,
                 "actor": actor_id(self.home_path, user), "action": action,
                 "objects": [o.as_dict() for o in objects], "details": details,
                 "prev": head[1]}  # fmt: skip
        entry["hash"] = entry_hash(entry)
        return (entry["seq"], entry["hash"]), canonical(entry) + b"\n"

    def _found(self, exclude: set[tuple[str, str]]) -> list[Touched]:
        """The versions storage held before the journal began (an archive older than its
        journal), so that every version has its entry."""
        found = []
        for loc in self.storage.replicas[:1]:
            for rel in loc.object_paths(self.tenant):
                try:
                    obj = loc.open_path(self.tenant, rel)
                except OcflError:
                    continue  # for the fixity audit
                if is_evidence_id(obj.id):
                    continue
                for vname in obj.inventory["versions"]:
                    if (obj.id, vname) not in exclude:
                        found.append(Touched(obj.id, vname, inventory_digest(obj, vname)))
        return found

    def _cut_partial_line(self) -> None:
        try:
            with open(self.queue, "rb+") as f:
                data = f.read()
                if data and not data.endswith(b"\n"):
                    f.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    def due(self, minutes: int, at: str | None = None) -> bool:
        """Whether the queue's oldest entry has waited `minutes` for storage."""
        queued = self._queued()
        if not queued:
            return False
        oldest = dt.datetime.fromisoformat(queued[0]["time"])
        at_ = dt.datetime.fromisoformat(at) if at else dt.datetime.now(dt.UTC)
        return (at_ - oldest).total_seconds() >= minutes * 60

    def queued_count(self) -> int:
        """Entries not yet in storage."""
        return len(self._queued())

    def head_seq(self) -> int:
        with self._locked():
            return self._head(self._queued())[0]

    def has(self, object_id: str, version: str, since: int) -> bool:
        """Whether an entry after `since` names this object version."""
        for e in self.entries(since=since):
            if any(o.get("id") == object_id and o.get("version") == version
                   for o in e.get("objects", [])):  # fmt: skip
                return True
        return False

    # -- storing ----------------------------------------------------------------------------

    def _stored_object(self):
        try:
            return self.storage.open(self.tenant, self.object_id)
        except (OcflError, OSError):
            return None

    def segments(self, obj=None) -> list[tuple[int, int, str, str]]:
        """The stored segments (first seq, last seq, version, logical path), in order."""
        obj = obj or self._stored_object()
        if obj is None:
            return []
        out = []
        for vname, v in obj.inventory["versions"].items():
            for paths in v["state"].values():
                for p in paths:
                    m = SEGMENT.match(p)
                    if m:
                        out.append((int(m.group(1)), int(m.group(2)), vname, p))
        return sorted(out)

    def stored(self, since: int = 0) -> Iterator[dict]:
        """The stored entries after `since`, oldest first."""
        obj = self._stored_object()
        for _first, last, vname, path in self.segments(obj):
            if last <= since:
                continue
            for e in _lines(obj.read(path, vname), f"{self.object_id} {vname}/{path}"):
                if "_malformed" in e or int(e.get("seq", 0)) > since:
                    yield e

    def entries(self, since: int = 0) -> Iterator[dict]:
        """Every entry after `since`: the stored ones, then those still queued."""
        last = since
        for e in self.stored(since):
            last = max(last, int(e.get("seq", 0) or 0))
            yield e
        for e in self._queued():
            if int(e.get("seq", 0) or 0) > last:
                yield e

    def flush(self, user: str = "magazin") -> int:
        """Commit the queued entries as one new segment; returns how many. A flush killed
        before the queue was trimmed is completed by the next (entries stored are skipped)."""
        with self._locked():
            queued = self._queued()
        obj = self._stored_object()
        stored_until = max((last for _f, last, _v, _p in self.segments(obj)), default=0)
        new = [e for e in queued if int(e["seq"]) > stored_until]
        if new:
            self._store(new, user, obj)
            stored_until = int(new[-1]["seq"])
        if queued:
            self._trim(stored_until)
        return len(new)

    def _store(self, new: list[dict], user: str, obj) -> None:
        from ..aip.builder import metadata_files, metadata_newfiles
        from .objects import journal_description

        data = b"".join(canonical(e) + b"\n" for e in new)
        logical = f"journal/{int(new[0]['seq']):012d}-{int(new[-1]['seq']):012d}.jsonl"
        seg = NewFile(logical, None, hashlib.sha512(data).hexdigest(), data=data)
        if obj is None:
            meta = metadata_newfiles(metadata_files(journal_description(self.tenant), {}))
        else:  # the object's description as it is (OCFL keeps the bytes once)
            meta = _description_files(obj)
        version = VersionInfo(now(), f"journal {logical}", user, f"urn:magazin:user:{user}")
        storage = self.storage
        if obj is None and storage.create(self.tenant, self.object_id, [*meta, seg], version,
                                          action=None):  # fmt: skip
            return
        with storage.change(self.tenant, self.object_id) as change:
            if max((last for _f, last, _v, _p in self.segments(change.head)), default=0) >= int(
                new[0]["seq"]
            ):
                return  # stored by a flush running beside this one (the next flush trims)
            if obj is None:  # another flush made the object: its description as it is
                meta = _description_files(change.head)
            change.commit([*meta, seg], version, carry_state=False, action=None)

    def keep_timestamp(self, number: int, anchor: dict, token: bytes, user: str) -> None:
        """An evidence run's time-stamp of the journal's head, kept in the journal object
        too (`timestamps/<n>.json`: the entry's number and hash, the tree's hash and the
        head's reduced hash tree; `timestamps/<n>.tsr`: the token), so that the journal
        alone shows up to where it is anchored."""
        data = json.dumps(anchor, indent=1, sort_keys=True).encode()
        files = [NewFile(f"timestamps/{number:06d}.json", None,
                         hashlib.sha512(data).hexdigest(), data=data),
                 NewFile(f"timestamps/{number:06d}.tsr", None,
                         hashlib.sha512(token).hexdigest(), data=token)]  # fmt: skip
        version = VersionInfo(now(), f"time-stamp of entry {anchor['seq']}", user,
                              f"urn:magazin:user:{user}")  # fmt: skip
        with self.storage.change(self.tenant, self.object_id) as change:
            meta = _description_files(change.head)
            change.commit([*meta, *files], version, carry_state=False, action=None)

    def _trim(self, stored_until: int) -> None:
        """Drop the stored entries from the queue (rewritten whole, then renamed)."""
        with self._locked():
            queued = self._queued()
            keep = [e for e in queued if int(e["seq"]) > stored_until]
            if len(keep) == len(queued):
                return
            done = [e for e in queued if int(e["seq"]) <= stored_until]
            head = self.dir / "head.json"
            tmp = head.with_suffix(".tmp")
            tmp.write_text(json.dumps({"seq": done[-1]["seq"], "hash": done[-1]["hash"]}))
            os.replace(tmp, head)
            tmp = self.queue.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                f.write(b"".join(canonical(e) + b"\n" for e in keep))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.queue)
