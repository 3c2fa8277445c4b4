"""Validation of a file according to its identified format, with the tools archives use.

Each format family has one module with a `validate(path, policy) -> Validation`; `validate`
here picks it by the file's PRONOM identification. Validators run inside the capped worker
processes of `pool.py` (time-boxed, memory-capped): nothing here guards against a hostile
file itself. The outcome is PREMIS's: `success` (valid), `failure` (invalid: the
validator's messages), `warning` (not validated, and why).
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field

from ...aip.model import Agent, AipEvent
from ...i18n import N_
from ...ids import new_ulid, now

SUCCESS, FAILURE, WARNING = "success", "failure", "warning"
MAX_MESSAGES = 20  # a broken file can produce thousands; the first ones say enough


@dataclass(frozen=True)
class Validation:
    outcome: str  # success | failure | warning
    tool: str  # the agent: the tool and its version, e.g. "pikepdf 10.18.0 (qpdf 11.9.1)"
    note: str = ""  # what was checked, e.g. "PDF/A structure checks passed"
    messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def detail(self) -> str:
        """The event's outcome detail: the note, then the messages."""
        parts = [self.note] if self.note else []
        return "; ".join(parts + self.messages[:MAX_MESSAGES]) + (
            f"; … ({len(self.messages) - MAX_MESSAGES} more)"
            if len(self.messages) > MAX_MESSAGES
            else ""
        )


@dataclass(frozen=True)
class ValidatorPolicy:
    """[validators] of magazin.toml: each file's run is cut off after `timeout_s` seconds
    and may use `memory_mb` of memory; `workers` processes validate at once; `verapdf`, a
    veraPDF command whose report decides PDF/A conformance."""

    timeout_s: float = 60.0
    memory_mb: int = 1536
    workers: int = 2
    verapdf: str | None = None
    enabled: bool = True
    home: str | None = None  # MAGAZIN_HOME: installed schemas


def validation_event(v: Validation, logical_path: str):
    """The PREMIS validation event of one file, and its agent (the tool and its version)."""
    agent = Agent("software", v.tool, v.tool, "software")
    event = AipEvent(
        new_ulid(),
        "validation",
        now(),
        v.outcome,
        N_("{path}: validated as its identified format").format(
            path=logical_path.split("/data/", 1)[-1]
        ),
        v.detail,
        agents=[(agent.id_value, "executing program")],
        objects=[logical_path],
    )
    return event, agent


def valid(tool: str, note: str = "", messages: list[str] | None = None) -> Validation:
    return Validation(SUCCESS, tool, note, list(messages or []))


def invalid(tool: str, messages: list[str], note: str = "") -> Validation:
    return Validation(FAILURE, tool, note, list(messages))


def not_validated(tool: str, reason: str) -> Validation:
    return Validation(WARNING, tool, N_("not validated: {reason}").format(reason=reason))


# format family by MIME type (PRONOM's, as identification reports it); PUIDs where the MIME
# type is missing or shared
_BY_MIME = {
    "application/pdf": "pdf",
    "image/tiff": "image",
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/bmp": "image",
    "image/jp2": "jp2",
    "image/jpx": "jp2",
    "text/xml": "xml",
    "application/xml": "xml",
    "message/rfc822": "email",
    "audio/x-wav": "av",
    "audio/wav": "av",
    "video/x-matroska": "av",
    "video/mp4": "av",
    "audio/mp4": "av",
    "text/plain": "text",
}
_BY_PUID = {
    "fmt/278": "email",  # Internet Message Format
    "fmt/950": "email",  # MIME Email
    "fmt/101": "xml",
    "x-fmt/280": "xml",  # XML Schema Definition
    "fmt/569": "av",  # Matroska
    "fmt/199": "av",  # MPEG-4 Media File
    "x-fmt/392": "jp2",
    "x-fmt/111": "text",
}
_MODULES = {
    "pdf": "pdf",
    "image": "image",
    "jp2": "jp2",
    "odf": "package",
    "ooxml": "package",
    "xml": "xml",
    "email": "email",
    "av": "av",
    "text": "text",
}


def family_of(puid: str | None, mime: str | None) -> str | None:
    """The validator family for an identified file; None: no validator for it."""
    if puid in _BY_PUID:
        return _BY_PUID[puid]
    for m in (mime or "").split(","):
        m = m.strip().lower()
        if m.startswith("application/vnd.oasis.opendocument."):
            return "odf"
        if m.startswith("application/vnd.openxmlformats-officedocument."):
            return "ooxml"
        if m in _BY_MIME:
            return _BY_MIME[m]
    return None


def validate(
    path: str, puid: str | None, mime: str | None, policy: ValidatorPolicy | None = None
) -> Validation:
    """Validate one file (in the calling process: see pool.py for the capped workers)."""
    family = family_of(puid, mime)
    if family is None:
        return not_validated(
            "Magazin", N_("no validator for this format ({puid})").format(puid=puid or "unknown")
        )
    module = importlib.import_module(f"{__name__}.{_MODULES[family]}")
    result = module.validate(path, policy or ValidatorPolicy(), family=family, puid=puid)
    return _without_path(result, path)


def _without_path(v: Validation, path: str) -> Validation:
    """Tools name the file they read; that is a staged or temporary copy: left out."""
    if not any(path in m for m in v.messages):
        return v
    messages = [m.replace(f"{path}: ", "").replace(path, "…") for m in v.messages]
    return Validation(v.outcome, v.tool, v.note, messages)
