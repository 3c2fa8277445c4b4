"""`journal verify`: the chain checked against itself, against the OCFL inventories it names,
and the other way round - every version in storage has its entry, since a chain alone cannot
show that its last entries were cut off.

A bad entry is named by its place in the chain (`first_bad`: the sequence number where the
chain first goes wrong; for versions without an entry, the number the first missing entry
would have had)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ids import is_evidence_id
from ..storage.location import LocationUnavailable
from ..storage.ocfl import OcflError
from . import ers, tsp
from .journal import GENESIS, canonical, entry_hash, inventory_digest


@dataclass
class JournalReport:
    tenant: str
    entries: int = 0
    first_bad: int | None = None
    anchored_until: int | None = None
    unanchored: int = 0
    problems: list[dict] = field(default_factory=list)
    timestamps: str = "not configured"

    @property
    def valid(self) -> bool:
        return not self.problems

    def bad(self, seq: int, problem: str) -> None:
        self.problems.append({"seq": seq, "problem": problem})
        if self.first_bad is None or seq < self.first_bad:
            self.first_bad = seq

    def as_dict(self) -> dict:
        return {"tenant": self.tenant, "entries": self.entries, "valid": self.valid,
                "first_bad": self.first_bad, "anchored_until": self.anchored_until,
                "unanchored": self.unanchored, "timestamps": self.timestamps,
                "problems": self.problems}  # fmt: skip


def check_chain(entries: list[dict], report: JournalReport) -> dict[tuple[str, str], tuple]:
    """The chain against itself: numbers in order without gaps, each entry's hash its
    content's, each `prev` the hash before it. Returns what the entries name:
    (object id, version) -> (inventory digest, seq)."""
    named: dict[tuple[str, str], tuple[str, int]] = {}
    prev, expected = GENESIS, 1
    for position, e in enumerate(entries, start=1):
        if "_malformed" in e:
            report.bad(expected, e["_malformed"])
            expected += 1
            continue
        seq = e.get("seq")
        if not isinstance(seq, int) or seq != expected:
            report.bad(expected, f"entry {position} of the chain has number {seq!r}, not "
                                 f"{expected} (an entry deleted, inserted or moved)")  # fmt: skip
        if e.get("prev") != prev:
            report.bad(expected, f"entry {seq!r} does not follow the entry before it (its "
                                 "prev is not that entry's hash)")  # fmt: skip
        if entry_hash(e) != e.get("hash"):
            report.bad(expected, f"entry {seq!r} was changed after it was written (its content "
                                 "does not match its hash)")  # fmt: skip
        prev = e.get("hash")
        for o in e.get("objects") or []:
            if isinstance(o, dict):
                named[(o.get("id"), o.get("version"))] = (o.get("inventory"), expected)
        expected += 1
    report.entries = len(entries)
    return named


def check_storage(storage, tenant: str, named: dict, report: JournalReport) -> None:
    """The entries against storage, in every replica location: each version an entry names
    is there with the inventory digest the entry gives, and each version there is named."""
    missing_entry: list[str] = []
    seen: set[tuple[str, str]] = set()
    for loc in storage.replicas:
        try:
            paths = list(loc.object_paths(tenant))
        except LocationUnavailable as e:
            report.bad(report.entries + 1, f"{loc.name}: cannot list the objects: {e}")
            continue
        for rel in paths:
            try:
                obj = loc.open_path(tenant, rel)
            except OcflError as e:
                report.bad(report.entries + 1, f"{loc.name}: {rel}: unreadable: {e}")
                continue
            if is_evidence_id(obj.id):
                continue
            for vname in obj.inventory["versions"]:
                seen.add((obj.id, vname))
                got = named.get((obj.id, vname))
                if got is None:
                    missing_entry.append(f"{obj.id} {vname} ({loc.name})")
                    continue
                try:
                    digest = inventory_digest(obj, vname)
                except (OSError, OcflError) as e:
                    report.bad(got[1], f"{loc.name}: {obj.id} {vname}/inventory.json: {e}")
                    continue
                if digest != got[0]:
                    report.bad(got[1], f"{loc.name}: {obj.id} {vname}/inventory.json differs "
                                       f"from the digest entry {got[1]} gives")  # fmt: skip
    for (oid, vname), (_digest, seq) in sorted(named.items(), key=lambda kv: kv[1][1]):
        if (oid, vname) not in seen:
            report.bad(seq, f"entry {seq} names {oid} {vname}, which no location holds")
    if missing_entry:
        shown = ", ".join(missing_entry[:5]) + (" …" if len(missing_entry) > 5 else "")
        report.bad(report.entries + 1, f"{len(missing_entry)} version(s) in storage have no "
                                       f"entry (entries cut off?): {shown}")  # fmt: skip


def check_anchors(entries: list[dict], runs: list, trusted: list[bytes],
                  report: JournalReport) -> None:  # fmt: skip
    """Each evidence run time-stamped the journal's head then: that entry must be the one
    time-stamped (a chain rewritten whole, hashes recomputed, is found here), its tree must
    lead to the token's imprint and the token must hold. Entries up to the last such head
    are anchored."""
    by_seq = {e.get("seq"): e for e in entries if "_malformed" not in e}
    anchored = 0
    for run in runs:
        for i, leaf in enumerate(run.leaves):
            if "journal" not in leaf:
                continue
            seq = leaf["journal"]
            entry = by_seq.get(seq)
            when = run.time[:19]
            if entry is None or ers.digest(run.hash, canonical(entry)).hex() != leaf["digest"]:
                report.bad(seq, f"entry {seq} is not the entry time-stamped at {when}")
                continue
            try:
                root = ers.root_of(run.hash, bytes.fromhex(leaf["digest"]), run.tree().reduced[i])
                tsp.verify(run.token, root, trusted)
            except (ValueError, tsp.TimestampError) as e:
                report.bad(seq, f"the time-stamp of {when} on entry {seq} does not hold: {e}")
                continue
            anchored = max(anchored, seq)
    report.anchored_until = anchored or None
    report.unanchored = report.entries - anchored


def verify_journal(storage, tenant: str, evidence=None) -> JournalReport:
    """The whole check; with `evidence` (the tenant's Evidence), against its time-stamps."""
    report = JournalReport(tenant)
    entries = list(storage.journal(tenant).entries())
    named = check_chain(entries, report)
    check_storage(storage, tenant, named, report)
    report.unanchored = report.entries
    if evidence is not None and evidence.policy.tsa_url:
        runs = list(evidence.runs())
        report.timestamps = f"{len(runs)} time-stamp(s) by {evidence.policy.tsa_url}"
        check_anchors(entries, runs, evidence.trusted(), report)
    return report
