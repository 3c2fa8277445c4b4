"""Evidence for archivists and operators: `evidence run|export|verify`, the worker's daily
time-stamps, and what the unit page shows of an AIP's evidence."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from magazin.core.atomic import write_atomically
from magazin.core.config import Home
from magazin.core.evidence.records import Evidence, EvidenceError, verify_record
from magazin.core.ids import now
from magazin.core.storage.location import ObjectMissing
from magazin.errors import Failure

from .models import Tenant, Unit
from .services import unit_root
from .storage import archive_storage


def tenant_evidence(home: Home, slug: str) -> Evidence:
    return Evidence(archive_storage(home), slug, home.evidence)


def run(home: Home, tenants: list[Tenant], user: str) -> list[dict]:
    """Time-stamp each tenant's journal head and new AIP versions now."""
    if not home.evidence.tsa_url:
        raise Failure("no time-stamping authority configured: set [evidence] tsa_url and "
                      "tsa_certificate in magazin.toml")  # fmt: skip
    out = []
    for t in tenants:
        try:
            out.append(tenant_evidence(home, t.slug).run(user))
        except EvidenceError as e:
            raise Failure(f"{t.slug}: {e}") from None
    return out


def renew(home: Home, tenants: list[Tenant], user: str, timestamps: bool,
          hash_name: str | None, force: bool = False) -> list[dict]:  # fmt: skip
    """`evidence renew`: re-time-stamp what is due (or everything, `force`), or begin new
    chains with a stronger hash."""
    if not home.evidence.tsa_url:
        raise Failure("no time-stamping authority configured: set [evidence] tsa_url and "
                      "tsa_certificate in magazin.toml")  # fmt: skip
    out = []
    for t in tenants:
        evidence = tenant_evidence(home, t.slug)
        try:
            if timestamps:
                out.append(evidence.renew_timestamps(user, force))
            if hash_name:
                out.append(evidence.renew_hash(hash_name, user))
        except EvidenceError as e:
            raise Failure(f"{t.slug}: {e}") from None
    return out


def run_due(home: Home, user: str = "magazin") -> list[dict]:
    """The worker's part: a run for each tenant with something new, once the last run is
    `[evidence] timestamp_hours` old (nothing without a TSA)."""
    if not home.evidence.tsa_url:
        return []
    done = []
    for slug in Tenant.objects.values_list("slug", flat=True):
        evidence = tenant_evidence(home, slug)
        if evidence.due(home.evidence.timestamp_hours):
            done.append(evidence.run(user))
    return done


def _version(home: Home, aid: str, version: str | None) -> tuple[Unit, str, str]:
    unit = Unit.objects.filter(aid=aid).select_related("tenant").first()
    if unit is None:
        raise Failure(f"no unit {aid}")
    root = unit_root(unit)
    try:
        obj = archive_storage(home).open(root.tenant.slug, root.ocfl_id)
    except ObjectMissing as e:
        raise Failure(str(e)) from None
    version = version or obj.head
    if version not in obj.inventory["versions"]:
        raise Failure(f"{aid}: no version {version} (the AIP has {obj.head} as its newest)")
    return root, root.ocfl_id, version


def export(home: Home, aid: str, version: str | None) -> tuple[bytes, dict]:
    """The evidence record (DER) of an AIP version's inventory, with what it covers."""
    root, oid, version = _version(home, aid, version)
    try:
        record = tenant_evidence(home, root.tenant.slug).record(oid, version)
    except EvidenceError as e:
        raise Failure(f"{aid} {version}: {e}") from None
    return record, {"aid": root.aid, "version": version, "object": oid}


def verify(home: Home, aid: str, version: str | None, record: bytes | None = None) -> dict:
    """An AIP version's evidence record checked - the one kept, or one exported earlier
    (`record`) - its hash tree and every time-stamp, against the inventory on storage now."""
    root, oid, version = _version(home, aid, version)
    evidence = tenant_evidence(home, root.tenant.slug)
    obj = archive_storage(home).open(root.tenant.slug, oid)
    with obj.open_content(f"{version}/inventory.json") as f:
        inventory = f.read()
    if record is None:
        try:
            record = evidence.record(oid, version)
        except EvidenceError as e:
            return {"aid": root.aid, "version": version, "valid": False, "time_stamps": [],
                    "problems": [str(e)]}  # fmt: skip
    result = verify_record(record, inventory, evidence.trusted())
    _keep_check(home, root, version, result["valid"])
    return {"aid": root.aid, "version": version, **result}


def _checked_path(home: Home, root: Unit) -> Path:
    key = hashlib.sha256(root.ocfl_id.encode()).hexdigest()[:32]
    return home.path / "evidence" / root.tenant.slug / "checked" / f"{key}.json"


def _keep_check(home: Home, root: Unit, version: str, valid: bool) -> None:
    path = _checked_path(home, root)
    write_atomically(path, json.dumps({"version": version, "valid": valid, "time": now()}).encode())


def summary(home: Home, root: Unit) -> dict | None:
    """For the unit page: since when the AIP's newest version is time-stamped, by whom, how
    many time-stamps its record holds, and its last check (None: not time-stamped yet)."""
    if not home.evidence.tsa_url:
        return None
    storage = archive_storage(home)
    try:
        head = storage.open(root.tenant.slug, root.ocfl_id).head
    except ObjectMissing:
        return None
    evidence = tenant_evidence(home, root.tenant.slug)
    chains = evidence.chains(evidence.runs_of(root.ocfl_id, head), root.ocfl_id, head)
    if not chains:
        return {"version": head, "since": None}
    first = chains[0][0][0]
    try:
        checked = json.loads(_checked_path(home, root).read_text())
        checked["time"] = dt.datetime.fromisoformat(checked["time"])
    except (OSError, ValueError, KeyError):
        checked = None
    return {"version": head, "since": dt.datetime.fromisoformat(first.time),
            "tsa": first.extra.get("tsa", ""), "time_stamps": sum(len(c) for c in chains),
            "checked": checked}  # fmt: skip
