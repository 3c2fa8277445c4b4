"""The audit log: every fixity check, repair and change of the storage itself (a location
retired, filled) leaves evidence in storage, without a new AIP version per check.

One append-only log per tenant, kept as an OCFL object (`urn:magazin:<tenant>:auditlog`) in
every replica location: a version per day whose state holds only that day's segment
(`log/2026/2026-12-02.jsonl`, one JSON object per line), so the inventory stays small while
earlier days stay in their versions. Entries are first appended to a buffer in the data
folder (flushed to disk at once) and go into storage when the day is over — or at once
(`flush(today=True)`), for a command an operator runs, which then makes a further version
of the same day holding its whole segment so far.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..ids import auditlog_id, now, user_id
from .ocfl import NewFile, OcflError, VersionInfo
from .store import Storage

SEGMENT = "log/{year}/{day}.jsonl"


def _summary(day: str, data: bytes) -> dict:
    """What a day's segment holds, for the journal: entries by event and outcome."""
    counts: dict[str, int] = {}
    for e in _lines(data):
        key = f"{e.get('event', '?')}: {e.get('outcome', '?')}"
        counts[key] = counts.get(key, 0) + 1
    return {"day": day, "entries": dict(sorted(counts.items()))}


def _day_of(entry_time: str) -> str:
    return entry_time[:10]


class AuditLog:
    """The audit logs of an archive's tenants (see the module docstring)."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self.buffer = storage.home.path / "auditlog"

    def append(self, tenant: str, entry: dict) -> dict:
        """Record one entry (its time is set where missing); durable when this returns."""
        return self.append_many(tenant, [entry])[0]

    def append_many(self, tenant: str, entries: list[dict]) -> list[dict]:
        """Record entries, each day's with one write and one flush to disk."""
        entries = [{"time": now(), **e} for e in entries]
        by_day: dict[str, list[str]] = {}
        for e in entries:
            line = json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n"
            by_day.setdefault(_day_of(e["time"]), []).append(line)
        for day, lines in by_day.items():
            path = self.buffer / tenant / f"{day}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                data = "".join(lines).encode("utf-8")
                while data:  # O_APPEND: each write lands whole at the end
                    data = data[os.write(fd, data) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        return entries

    def flush(self, today: bool = False, user: str = "magazin") -> int:
        """Commit the buffered days (today's too, with `today`) as versions of each tenant's
        log; returns the versions made. Past days' buffers are removed once stored."""
        made = 0
        this_day = now()[:10]
        for tenant_dir in sorted(self.buffer.iterdir()) if self.buffer.is_dir() else []:
            for path in sorted(tenant_dir.glob("*.jsonl")):
                day = path.stem
                if day == this_day and not today:
                    continue
                if day > this_day:
                    continue
                self._commit(tenant_dir.name, day, path.read_bytes(), user)
                made += 1
                if day < this_day:
                    path.unlink()
        return made

    def _commit(self, tenant: str, day: str, data: bytes, user: str) -> None:
        oid = auditlog_id(tenant)
        logical = SEGMENT.format(year=day[:4], day=day)
        nf = NewFile(logical, None, hashlib.sha512(data).hexdigest(), data=data)
        version = VersionInfo(now(), f"audit log {day}", user, user_id(user))
        storage = self.storage
        if not storage.holders(tenant, oid) and storage.create(
            tenant, oid, [nf], version, "fixity", _summary(day, data)
        ):
            return
        with storage.change(tenant, oid) as change:
            head = change.head
            if head.state().get(logical) == nf.sha512:
                return  # stored already (a flush killed before the buffer was removed)
            change.commit(
                [nf], version, carry_state=False, action="fixity", details=_summary(day, data)
            )

    def entries(self, tenant: str, since: str | None = None) -> Iterator[dict]:
        """Every entry of the tenant's log (stored days, then what is buffered), oldest
        first; `since`: from this day on (YYYY-MM-DD)."""
        seen_days = set()
        try:
            obj = self.storage.open(tenant, auditlog_id(tenant))
        except OcflError:
            obj = None
        if obj is not None:
            latest: dict[str, tuple[int, str]] = {}  # day -> (version number, version)
            for v, data in obj.inventory["versions"].items():
                for paths in data["state"].values():
                    for p in paths:
                        day = Path(p).stem
                        if latest.get(day, (0, ""))[0] < int(v[1:]):
                            latest[day] = (int(v[1:]), v)
            for day in sorted(latest):
                if since and day < since:
                    continue
                seen_days.add(day)
                logical = SEGMENT.format(year=day[:4], day=day)
                yield from _lines(obj.read(logical, latest[day][1]))
        buffered = self.buffer / tenant
        for path in sorted(buffered.glob("*.jsonl")) if buffered.is_dir() else []:
            if since and path.stem < since:
                continue
            data = path.read_bytes()
            if path.stem in seen_days:  # stored earlier today: what came after it
                data = data[_stored_length(obj, path.stem) :]
            yield from _lines(data)


def _stored_length(obj, day: str) -> int:
    try:
        return len(obj.read(SEGMENT.format(year=day[:4], day=day)))
    except (KeyError, OcflError):
        return 0


def _lines(data: bytes) -> Iterator[dict]:
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError:
                continue  # a line a killed writer left half: never a whole entry
