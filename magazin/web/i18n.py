"""What a reader sees in his language: the vocabularies (PREMIS event types and outcomes,
statuses, roles, Dublin Core elements) with their labels, and the engine's English messages
translated through the catalogue (core.i18n.Phrasebook).

Record data — titles, file names, the values of a description, PRONOM format names — is
data, never translated."""

from __future__ import annotations

import datetime as dt
import gettext as gnu
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import pgettext_lazy as _p

from magazin.core.i18n import Phrasebook

LOCALE = Path(__file__).resolve().parent.parent / "locale"

LABELS = {
    # PREMIS event types (Library of Congress vocabulary) as archivists call them
    "event": {
        "ingestion": _p("PREMIS event", "ingestion"),
        "message digest calculation": _p("PREMIS event", "message digest calculation"),
        "format identification": _p("PREMIS event", "format identification"),
        "fixity check": _p("PREMIS event", "fixity check"),
        "replication": _p("PREMIS event", "replication"),
        "validation": _p("PREMIS event", "validation"),
        "migration": _p("PREMIS event", "migration"),
        "metadata modification": _p("PREMIS event", "metadata modification"),
        "deletion": _p("PREMIS event", "deletion"),
        "accession": _p("PREMIS event", "accession"),
        "appraisal": _p("PREMIS event", "appraisal"),
        "policy assignment": _p("PREMIS event", "policy assignment"),
        "creation": _p("PREMIS event", "creation"),
    },
    "outcome": {
        "success": _p("event outcome", "success"),
        "failure": _p("event outcome", "failure"),
        "warning": _p("event outcome", "warning"),
    },
    "location": {
        "active": _p("location state", "active"),
        "filling": _p("location state", "being filled"),
        "retired": _p("location state", "retired"),
        "unreachable": _p("location state", "unreachable"),
    },
    "location type": {
        "filesystem": _p("location type", "file system"),
        "s3": _p("location type", "S3 object store"),
    },
    "copy": {
        "ok": _p("copy status", "intact"),
        "missing": _p("copy status", "missing"),
        "damaged": _p("copy status", "damaged"),
    },
    "fixity": {
        "missing": _p("fixity problem", "missing"),
        "changed": _p("fixity problem", "changed"),
        "extra": _p("fixity problem", "not in the inventory"),
    },
    "access": {
        "open": _p("access status", "open"),
        "closed": _p("access status", "closed"),
    },
    "job": {
        "queued": _p("job state", "queued"),
        "running": _p("job state", "running"),
        "done": _p("job state", "done"),
        "rejected": _p("job state", "rejected"),
        "failed": _p("job state", "failed"),
    },
    "quarantine": {
        "open": _p("quarantine status", "open"),
        "retried": _p("quarantine status", "taken over after a retry"),
        "discarded": _p("quarantine status", "discarded"),
    },
    "process": {
        "offered": _p("xdomea process state", "offered"),
        "appraised": _p("xdomea process state", "appraised"),
        "appraisal confirmed": _p("xdomea process state", "appraisal confirmed"),
        "awaiting delivery": _p("xdomea process state", "awaiting delivery"),
        "completed": _p("xdomea process state", "completed"),
        "rejected": _p("xdomea process state", "rejected"),
        "discarded": _p("xdomea process state", "discarded"),
    },
    "message": {
        "accepted": _p("xdomea message status", "accepted"),
        "rejected": _p("xdomea message status", "rejected"),
        "partial": _p("xdomea message status", "partly taken over"),
        "sent": _p("xdomea message status", "sent"),
        "in": _p("xdomea message direction", "received"),
        "out": _p("xdomea message direction", "sent"),
    },
    "origin": {
        "web": _p("started from", "web page"),
        "api": _p("started from", "API"),
        "cli": _p("started from", "command line"),
        "xdomea": _p("started from", "xdomea inbox"),
    },
    "phase": {
        "copy": _p("ingest phase", "copying"),
        "verify": _p("ingest phase", "verifying"),
        "identify": _p("ingest phase", "identifying formats"),
        "store": _p("ingest phase", "storing"),
        "decide": _p("job phase", "recording decisions"),
        "migrate": _p("job phase", "migrating"),
        "validate": _p("job phase", "validating"),
    },
    "risk": {
        "low": _p("format risk", "low"),
        "medium": _p("format risk", "medium"),
        "high": _p("format risk", "high"),
        "none": _p("format risk", "not assessed"),
    },
    "validation": {
        "success": _p("validation", "valid"),
        "failure": _p("validation", "invalid"),
        "warning": _p("validation", "not validated"),
        "none": _p("validation", "not validated yet"),
    },
    "decision": {
        "release": _p("access decision", "release for everyone"),
        "grant": _p("access decision", "grant to a reader"),
        "publish": _p("access decision", "mark for publication"),
    },
    "stored": {
        "stored": _p("AIP status", "stored"),
        "duplicate": _p("AIP status", "already stored"),
    },
    "basis": {
        "set": _p("appraisal basis", "decided"),
        "inherited": _p("appraisal basis", "inherited"),
        "parent of A": _p("appraisal basis", "holds an A"),
        "all": _p("appraisal basis", "all objects"),
        "rest confirmed V": _p("appraisal basis", "rest confirmed as V"),
        "two-step": _p("appraisal basis", "two-step delivery"),
    },
    "action": {
        "view": _p("access log action", "viewed"),
        "download": _p("access log action", "downloaded"),
        "file": _p("access log action", "downloaded"),
        "dip": _p("access log action", "DIP downloaded"),
        "search": _p("access log action", "searched"),
    },
    # what the archive journal records (core.evidence.journal.ACTIONS)
    "journal": {
        "ingest": _p("journal action", "AIPs ingested"),
        "record": _p("journal action", "tenant, fonds or accession"),
        "correction": _p("journal action", "description corrected"),
        "access decision": _p("journal action", "access decision"),
        "appraisal": _p("journal action", "xdomea process"),
        "migration": _p("journal action", "migration"),
        "validation": _p("journal action", "validation"),
        "repair": _p("journal action", "copy repaired"),
        "fixity": _p("journal action", "fixity checks"),
        "location": _p("journal action", "storage location"),
        "user": _p("journal action", "user account"),
        "role": _p("journal action", "role"),
        "import": _p("journal action", "AFIS import"),
        "found": _p("journal action", "found when the journal began"),
    },
    "role": {
        "operator": _p("role", "operator"),
        "admin": _p("role", "administrator"),
        "archivist": _p("role", "archivist"),
        "reader": _p("role", "reader"),
    },
    # Dublin Core elements as a German archive names the fields of a description
    "field": {
        "title": _p("description field", "Title"),
        "creator": _p("description field", "Provenance"),
        "subject": _p("description field", "Subject"),
        "description": _p("description field", "Description"),
        "publisher": _p("description field", "Publisher"),
        "contributor": _p("description field", "Contributor"),
        "date": _p("description field", "Date range"),
        "type": _p("description field", "Type"),
        "format": _p("description field", "Format"),
        "identifier": _p("description field", "Reference code"),
        "source": _p("description field", "Source"),
        "language": _p("description field", "Language"),
        "relation": _p("description field", "Relation"),
        "coverage": _p("description field", "Coverage"),
        "rights": _p("description field", "Rights"),
    },
}
# the xdomea kinds of a unit (Akte, Vorgang, …) are German terms of the standard: data


def label(kind: str, value) -> str:
    """The label of a vocabulary value in the reader's language (unknown values as they are)."""
    if value is None or value == "":
        return ""
    found = LABELS.get(kind, {}).get(str(value))
    return str(found) if found is not None else tr(str(value))


def field_label(name: str) -> str:
    """A description field: a Dublin Core element by its label; `dc:x` likewise; any other
    field (a column of the delivered table, an xdomea element) by its own name."""
    el = name.removeprefix("dc:")
    found = LABELS["field"].get(el)
    return str(found) if found is not None else name


@lru_cache(maxsize=8)
def phrasebook(language: str) -> Phrasebook:
    """The templates of the project's catalogue for `language` with their translations."""
    try:
        with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as f:
            catalog = gnu.GNUTranslations(f)._catalog  # noqa: SLF001 - the parsed .mo
    except OSError:
        return Phrasebook({})
    return Phrasebook(
        {k: v for k, v in catalog.items() if isinstance(k, str) and k and "\x04" not in k and v}
    )


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def tr(text: str | None) -> str:
    """An engine message (problem, event detail, closure reason, error) in the reader's
    language; pieces of it that are themselves messages, labels or days likewise."""
    if not text:
        return text or ""
    book = phrasebook(get_language() or settings.LANGUAGE_CODE)

    def value(v: str) -> str:
        if _ISO_DAY.fullmatch(v):
            try:
                return formats.date_format(dt.date.fromisoformat(v), "SHORT_DATE_FORMAT")
            except ValueError:
                return v
        if v in LABELS["field"] or v.startswith("dc:"):
            return field_label(v)
        return book.translate(v)

    return book.translate(text, value)


def tr_list(text: str | None) -> list[str]:
    """A '; '-joined list of messages (an event's outcome detail), each translated."""
    return [tr(part) for part in (text or "").split("; ") if part]
