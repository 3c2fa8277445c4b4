"""How the journal and evidence objects describe themselves (METS, PREMIS, Dublin Core), so
that a reader of the storage alone knows what they hold."""

from __future__ import annotations

from ..aip.model import AipDescription
from ..ids import evidence_id, journal_id, now


def _description(tenant: str, kind: str, ocfl_id: str, title: str, text: str) -> AipDescription:
    return AipDescription(ocfl_id=ocfl_id, tenant=tenant, ulid=kind, fonds=None, title=title,
                          kind=kind, created=now(),
                          dc={"title": [title], "description": [text]})  # fmt: skip


def journal_description(tenant: str) -> AipDescription:
    return _description(
        tenant, "journal", journal_id(tenant), f"Journal {tenant}",
        "Hash-chained record of every action on the tenant's archive: "
        "journal/<first>-<last>.jsonl, one canonical JSON entry per line; each entry's hash "
        "is the SHA-256 of its JSON without the hash, its prev the hash of the entry before "
        "it.",
    )  # fmt: skip


def evidence_description(tenant: str) -> AipDescription:
    return _description(
        tenant, "evidence", evidence_id(tenant), f"Evidence {tenant}",
        "RFC 3161 time-stamps and RFC 4998 evidence records of the tenant's journal and AIP "
        "versions.",
    )  # fmt: skip
