"""PRONOM format identification of a file: Magazin's own engine (DROID's method, see
engine.py), and opf-fido 1.6.1 as a cross-check for tests and benchmarks.

The result names its basis (signature, container, extension) so that an answer guessed from
the file extension never passes as a signature match.
"""

from __future__ import annotations

import contextlib
import io
import mimetypes
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from ..i18n import N_


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
                warning = N_("identified by file extension only: {puids}").format(puids=puid)
            return Identification(puid, fname, version, mime or _guess_mime(name), basis, warning)
        cands = ", ".join(i[0] for i in uniq)
        mimes = {i[3] for i in uniq if i[3]}
        mime = mimes.pop() if len(mimes) == 1 else _guess_mime(name)
        return Identification(
            None, None, None, mime, basis,
            N_("several formats possible: {puids}").format(puids=cands),
        )  # fmt: skip


def _guess_mime(name: str) -> str | None:
    return mimetypes.guess_type(name)[0]


class PronomIdentifier:
    """Magazin's identification engine over one signature set (load once, reuse; thread-safe:
    matching keeps no state between files)."""

    name = "magazin-pronom"

    def __init__(self, droid: Path | None = None, container: Path | None = None, home=None):
        from .engine import Engine
        from .library import current_files, load_signature_set

        if droid is None:
            droid, container = current_files(home)
        self.files = (Path(droid), Path(container) if container else None, home)
        self.sigset = load_signature_set(droid, container, home)
        self.engine = Engine(self.sigset)
        from ... import __version__

        self.version = __version__
        self.signature_version = self.sigset.label

    @property
    def agent(self) -> str:
        return f"{self.name} {self.version} ({self.signature_version})"

    @property
    def head_size(self) -> int:
        return self.engine.head_size

    @property
    def tail_size(self) -> int:
        return self.engine.tail_size

    def identify(self, path: str | os.PathLike[str], name: str | None = None) -> Identification:
        """Identify the file at `path`; `name` (default: the path) gives the extension."""
        path = os.fspath(path)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(self.engine.head_size)
            if size <= len(head):
                tail = head[-self.engine.tail_size :] if self.engine.tail_size else b""
            elif self.engine.tail_size:
                f.seek(max(len(head), size - self.engine.tail_size))
                tail = (head + f.read())[-self.engine.tail_size :]
            else:
                tail = b""
        return self.identify_windows(head, tail, name or path, path)

    def identify_windows(
        self, head: bytes, tail: bytes, name: str, path: str | os.PathLike[str] | None = None
    ) -> Identification:
        """Identify from the first `head_size` and last `tail_size` bytes (already read, as in
        the ingest's streaming pass); `path` is opened only for ZIP/OLE2 containers."""
        m = self.engine.identify_windows(head, tail, name, path)
        return _identification(m, name)


def _identification(m, name: str) -> Identification:
    if m.basis == "none":
        return UNKNOWN
    cands = ", ".join(f.puid for f in m.candidates)
    if len(m.formats) == 1:
        f = m.formats[0]
        warning = (
            N_("identified by file extension only: {puids}").format(puids=cands)
            if m.basis == "extension"
            else None
        )
        return Identification(
            f.puid, f.name or None, f.version or None, f.mime or _guess_mime(name), m.basis, warning
        )
    mimes = {f.mime for f in m.candidates if f.mime}
    mime = mimes.pop() if len(mimes) == 1 else _guess_mime(name)
    what = (
        N_("file extension matches: {puids}")
        if m.basis == "extension"
        else N_("several formats possible: {puids}")
    )
    return Identification(None, None, None, mime, m.basis, what.format(puids=cands))


_default: dict = {}
_default_lock = threading.Lock()


def default_identifier(home=None) -> PronomIdentifier:
    """The engine over the signature files in use for `home` (loaded once per process)."""
    from .library import current_files

    files = current_files(home)
    key = tuple(str(f) for f in files if f is not None)
    with _default_lock:
        if key not in _default:
            _default[key] = PronomIdentifier(files[0], files[1], home)
        return _default[key]
