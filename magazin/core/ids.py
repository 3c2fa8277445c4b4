"""Identifiers and timestamps: AIDs (`<tenant>-<ULID>`), OCFL ids (`urn:magazin:<tenant>:<id>`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from ulid import ULID

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
AID_RE = re.compile(r"^(?P<tenant>[a-z0-9][a-z0-9-]*)-(?P<ulid>[0-9A-HJKMNP-TV-Z]{26})$")


def new_ulid() -> str:
    return str(ULID())


def child_ulid(root_ulid: str, key: str) -> str:
    """The ULID of a child unit: the root's time part and 80 bits derived from the root ULID
    and the child's source key, so that a re-run after a crash gives the same AIDs."""
    digest = hashlib.sha256(f"{root_ulid}\n{key}".encode()).digest()[:10]
    return str(ULID.from_bytes(ULID.from_str(root_ulid).bytes[:6] + digest))


def aid_for(tenant: str, ulid: str) -> str:
    return f"{tenant}-{ulid}"


def ocfl_id_for(tenant: str, ulid: str) -> str:
    return f"urn:magazin:{tenant}:{ulid}"


def record_object_id(tenant: str, kind: str, key: str) -> str:
    """The OCFL id of a tenant's own object (kind "tenant") or of a fonds, accession, …"""
    return (
        f"urn:magazin:{tenant}:tenant" if kind == "tenant" else f"urn:magazin:{tenant}:{kind}:{key}"
    )


def auditlog_id(tenant: str) -> str:
    """The OCFL id of a tenant's audit log (fixity checks, repairs, storage changes)."""
    return f"urn:magazin:{tenant}:auditlog"


def is_auditlog_id(object_id: str) -> bool:
    return object_id.startswith("urn:magazin:") and object_id.endswith(":auditlog")


def journal_id(tenant: str) -> str:
    """The OCFL id of a tenant's journal (the hash-chained record of every action)."""
    return f"urn:magazin:{tenant}:journal"


def evidence_id(tenant: str) -> str:
    """The OCFL id of a tenant's evidence (time-stamps and RFC 4998 evidence records)."""
    return f"urn:magazin:{tenant}:evidence"


def is_evidence_id(object_id: str) -> bool:
    """The journal or evidence object: they record the others' versions, not themselves."""
    return object_id.startswith("urn:magazin:") and object_id.endswith((":journal", ":evidence"))


def is_log_id(object_id: str) -> bool:
    """An object kept beside the records (audit log, journal, evidence): no catalog unit."""
    return is_auditlog_id(object_id) or is_evidence_id(object_id)


def new_reader_id() -> str:
    """A reader's pseudonym in AIPs (the catalog maps it to the user)."""
    return f"urn:magazin:reader:{new_ulid()}"


USER_PREFIX = "urn:magazin:user:"


def user_id(user: str) -> str:
    """A user as an agent of PREMIS events and OCFL versions."""
    return f"{USER_PREFIX}{user}"


def parse_aid(aid: str) -> tuple[str, str]:
    """Split an AID into (tenant slug, ULID); ValueError if it is not one."""
    m = AID_RE.match(aid)
    if not m:
        raise ValueError(f"not an AID: {aid!r}")
    return m.group("tenant"), m.group("ulid")


def valid_slug(slug: str) -> bool:
    return bool(SLUG_RE.match(slug))


def now() -> str:
    """The current time, ISO 8601 with UTC offset and microseconds (PREMIS, OCFL, catalog)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
