"""PRONOM format identification of a file, for now through opf-fido 1.6.1.

The result names its basis (signature, container, extension) so that an answer guessed from
the file extension never passes as a signature match. Fido is used as a library: its match
handler is replaced, so nothing is printed.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
import os
import threading
from dataclasses import asdict, dataclass
from typing import Protocol


@dataclass(frozen=True)
class Identification:
    puid: str | None
    format: str | None
    version: str | None
    mime: str | None
    basis: str  # signature | container | extension | none
    warning: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


UNKNOWN = Identification(None, None, None, None, "none", None)


class Identifier(Protocol):
    """What the ingest needs from an identification engine."""

    agent: str

    def identify(self, path: str | os.PathLike[str]) -> Identification: ...


# fido reports OOXML through its own ids; DROID and siegfried use these PUIDs
_FIDO_OOXML = {
    "fido-fmt/189.word": (
        "fmt/412",
        "Microsoft Word for Windows",
        "2007 onwards",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "fido-fmt/189.xl": (
        "fmt/214",
        "Microsoft Excel for Windows",
        "2007 onwards",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "fido-fmt/189.ppt": (
        "fmt/215",
        "Microsoft Powerpoint for Windows",
        "2007 onwards",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
}


class FidoIdentifier:
    """One loaded fido instance (loading the signatures takes a moment; reuse it)."""

    name = "opf-fido"

    def __init__(self) -> None:
        from fido import __version__ as fido_version
        from fido.fido import Fido
        from fido.versions import get_local_versions

        versions = get_local_versions()
        formats = [versions.pronom_signature, versions.fido_extension_signature]

        self._matches: list = []
        self._matchtype = ""
        self._lock = threading.Lock()
        with contextlib.redirect_stderr(io.StringIO()):
            self._fido = Fido(quiet=True, handle_matches=self._handle, format_files=formats)
        self.version = fido_version
        self.signature_version = (
            f"{versions.pronom_signature}, {versions.pronom_container_signature}"
        )

    @property
    def agent(self) -> str:
        return f"{self.name} {self.version} ({self.signature_version})"

    def _handle(self, fullname, matches, delta_t, matchtype=""):
        self._matches = list(matches)
        self._matchtype = matchtype

    def identify(self, path: str | os.PathLike[str], name: str | None = None) -> Identification:
        """Identify the file at `path` (whose name carries the original extension)."""
        path = os.fspath(path)
        with self._lock:
            self._matches, self._matchtype = [], ""
            with contextlib.redirect_stderr(io.StringIO()):
                self._fido.identify_file(path)
            matches, matchtype = self._matches, self._matchtype
        return self._result(matches, matchtype, name or path)

    def _result(self, matches: list, matchtype: str, name: str) -> Identification:
        if not matches or matchtype == "fail":
            return UNKNOWN
        infos = []
        for fmt, _sig in matches:
            puid = self._fido.get_puid(fmt)
            fname = fmt.findtext("name")
            version = fmt.findtext("version")
            mime = fmt.findtext("mime")
            if puid in _FIDO_OOXML:
                puid, fname, version, mime = _FIDO_OOXML[puid]
            infos.append((puid, fname, version, mime))
        basis = {"signature": "signature", "container": "container", "extension": "extension"}.get(
            matchtype, matchtype or "signature"
        )
        uniq = list(dict.fromkeys(infos))
        if len(uniq) == 1:
            puid, fname, version, mime = uniq[0]
            warning = None
            if basis == "extension":
                warning = f"identified by file extension only: {puid}"
            return Identification(puid, fname, version, mime or _guess_mime(name), basis, warning)
        cands = ", ".join(i[0] for i in uniq)
        mimes = {i[3] for i in uniq if i[3]}
        mime = mimes.pop() if len(mimes) == 1 else _guess_mime(name)
        return Identification(None, None, None, mime, basis, f"several formats possible: {cands}")


def _guess_mime(name: str) -> str | None:
    return mimetypes.guess_type(name)[0]


_default: FidoIdentifier | None = None


def default_identifier() -> FidoIdentifier:
    global _default
    if _default is None:
        _default = FidoIdentifier()
    return _default
