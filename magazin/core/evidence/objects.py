"""How the journal and evidence objects describe themselves (METS, PREMIS, Dublin Core), so
that a reader of the storage alone knows what they hold."""

from __future__ import annotations

from ..aip.model import AipDescription
from ..ids import evidence_id, journal_id, now


def journal_description(tenant: str) -> AipDescription:
    return AipDescription(
        ocfl_id=journal_id(tenant), tenant=tenant, ulid="journal", fonds=None,
        title=f"Journal {tenant}", kind="journal", created=now(),
        dc={"title": [f"Journal {tenant}"],
            "description": ["Hash-chained record of every action on the tenant's archive: "
                            "journal/<first>-<last>.jsonl, one canonical JSON entry per line; "
                            "each entry's hash is the SHA-256 of its JSON without the hash, "
                            "its prev the hash of the entry before it."]},
    )  # fmt: skip


def evidence_description(tenant: str) -> AipDescription:
    return AipDescription(
        ocfl_id=evidence_id(tenant), tenant=tenant, ulid="evidence", fonds=None,
        title=f"Evidence {tenant}", kind="evidence", created=now(),
        dc={"title": [f"Evidence {tenant}"],
            "description": ["RFC 3161 time-stamps and RFC 4998 evidence records of the "
                            "tenant's journal and AIP versions."]},
    )  # fmt: skip
