"""Reading PRONOM's signature files: the DROID binary signature file and the container file.

The result (`SignatureSet`) is plain data: formats with names, versions, MIME types,
extensions and priorities; internal (byte) signatures as byte sequences made of subsequences;
container signatures as files that must exist in a ZIP or OLE2 container, each optionally with
byte signatures of its own. `engine.py` compiles it for matching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..hashing import file_digest
from . import pattern as P

DROID_NS = "{http://www.nationalarchives.gov.uk/pronom/SignatureFile}"


class SignatureFileError(ValueError):
    pass


@dataclass
class SubSequence:
    """Elements matched in one piece, starting `min_offset`..`max_offset` bytes after the
    previous subsequence (or the reference point); for EOF sequences the elements are
    already reversed, so all directions match the same way."""

    elements: tuple
    min_offset: int
    max_offset: int | None


@dataclass
class ByteSequence:
    reference: str  # bof | eof | var
    subsequences: list[SubSequence]


@dataclass
class InternalSignature:
    id: str
    sequences: list[ByteSequence]


@dataclass
class FileFormat:
    id: str
    puid: str
    name: str
    version: str
    mime: str
    extensions: list[str] = field(default_factory=list)
    signature_ids: list[str] = field(default_factory=list)
    priority_over: list[str] = field(default_factory=list)  # format ids


@dataclass
class ContainerFile:
    path: str
    signatures: list[InternalSignature]  # empty: the file need only exist


@dataclass
class ContainerSignature:
    id: str
    container: str  # ZIP | OLE2
    description: str
    files: list[ContainerFile]
    puids: list[str] = field(default_factory=list)


@dataclass
class SignatureSet:
    version: str
    created: str
    container_version: str | None
    formats: dict[str, FileFormat]  # by format id
    signatures: list[InternalSignature]
    containers: list[ContainerSignature]
    triggers: dict[str, str]  # trigger PUID -> container type
    sources: list[str]  # sha256 of the files read

    @property
    def label(self) -> str:
        s = f"DROID signature file V{self.version}"
        if self.container_version:
            s += f", container signature file {self.container_version}"
        return s


def _parse_xml(path: Path) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )
    try:
        return etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError) as e:
        raise SignatureFileError(f"{path}: not readable as XML: {e}") from None


def _int(v: str | None) -> int | None:
    return None if v in (None, "") else int(v)


def _subsequence(el, ns: str, eof: bool) -> SubSequence:
    """Build one subsequence: left fragments, the anchor sequence, right fragments."""
    seq = P.parse(el.findtext(f"{ns}Sequence") or "")
    left: dict[int, list] = {}
    right: dict[int, list] = {}
    for tag, side in (("LeftFragment", left), ("RightFragment", right)):
        for fr in el.iter(f"{ns}{tag}"):
            gap = P.Gap(int(fr.get("MinOffset", 0)), _int(fr.get("MaxOffset")))
            els = P.parse(fr.text or "")
            if gap.max != 0 or gap.min != 0:
                els = (*els, gap) if tag == "LeftFragment" else (gap, *els)
            side.setdefault(int(fr.get("Position", 1)), []).append(els)
    parts: list = []
    for pos in sorted(left, reverse=True):
        parts.append(_alt(left[pos]))
    parts.extend(seq)
    for pos in sorted(right):
        parts.append(_alt(right[pos]))
    els = P._merge(_flatten(parts))
    if eof:
        els = P.reverse(els)
    mn, mx = int(el.get("SubSeqMinOffset", 0) or 0), _int(el.get("SubSeqMaxOffset"))
    if mx is not None and mx < mn:
        mx = mn  # the container file has a few of these; DROID reads them as a fixed offset
    return SubSequence(els, mn, mx)


def _alt(branches: list[tuple]):
    if len(branches) == 1:
        return branches[0]
    return P.Alt(tuple(branches))


def _flatten(parts: list) -> list:
    out = []
    for p in parts:
        if isinstance(p, tuple):
            out.extend(p)
        else:
            out.append(p)
    return out


def _internal_signature(el, ns: str) -> InternalSignature:
    seqs = []
    for bs in el.iter(f"{ns}ByteSequence"):
        ref = {"BOFoffset": "bof", "EOFoffset": "eof"}.get(bs.get("Reference") or "", "var")
        subs = [_subsequence(s, ns, ref == "eof") for s in bs.iter(f"{ns}SubSequence")]
        order = [int(s.get("Position", i + 1)) for i, s in enumerate(bs.iter(f"{ns}SubSequence"))]
        subs = [s for _, s in sorted(zip(order, subs, strict=True), key=lambda t: t[0])]
        subs = [piece for s in subs for piece in _split_unbounded(s)]
        if subs:
            seqs.append(ByteSequence(ref, subs))
    return InternalSignature(el.get("ID") or "", seqs)


def _split_unbounded(sub: SubSequence) -> list[SubSequence]:
    """A `*` inside a pattern (the container file's syntax allows it) becomes a subsequence
    border, so that no regular expression holds an unbounded gap."""
    pieces, cur = [], []
    mn, mx = sub.min_offset, sub.max_offset
    for e in sub.elements:
        if isinstance(e, P.Gap) and e.max is None:
            if cur:
                pieces.append(SubSequence(tuple(cur), mn, mx))
                cur, mn, mx = [], e.min, None
            else:
                mn, mx = mn + e.min, None
        else:
            cur.append(e)
    if cur or not pieces:
        pieces.append(SubSequence(tuple(cur), mn, mx))
    return pieces


def read_signature_files(droid: Path, container: Path | None) -> SignatureSet:
    """Read a DROID signature file and (optionally) a container signature file."""
    root = _parse_xml(droid)
    if root.tag != f"{DROID_NS}FFSignatureFile":
        raise SignatureFileError(f"{droid}: not a DROID signature file (root {root.tag})")
    ns = DROID_NS
    try:
        sigs = [
            _internal_signature(el, ns)
            for el in root.iterfind(f"{ns}InternalSignatureCollection/{ns}InternalSignature")
        ]
        formats: dict[str, FileFormat] = {}
        for el in root.iterfind(f"{ns}FileFormatCollection/{ns}FileFormat"):
            f = FileFormat(
                id=el.get("ID") or "",
                puid=el.get("PUID") or "",
                name=el.get("Name") or "",
                version=el.get("Version") or "",
                mime=(el.get("MIMEType") or "").split(",")[0].strip(),
                extensions=[
                    e.text.strip().lower() for e in el.iterfind(f"{ns}Extension") if e.text
                ],
                signature_ids=[e.text.strip() for e in el.iterfind(f"{ns}InternalSignatureID")],
                priority_over=[
                    e.text.strip() for e in el.iterfind(f"{ns}HasPriorityOverFileFormatID")
                ],
            )
            formats[f.id] = f
    except (P.PatternError, ValueError) as e:
        raise SignatureFileError(f"{droid}: {e}") from None
    if not formats:
        raise SignatureFileError(f"{droid}: no file formats in the signature file")
    cont_version, containers, triggers, sources = None, [], {}, [file_digest(droid, "sha256")]
    if container is not None:
        cont_version, containers, triggers = _read_containers(container)
        sources.append(file_digest(container, "sha256"))
    return SignatureSet(
        version=root.get("Version") or "?",
        created=root.get("DateCreated") or "",
        container_version=cont_version,
        formats=formats,
        signatures=sigs,
        containers=containers,
        triggers=triggers,
        sources=sources,
    )


def _read_containers(path: Path) -> tuple[str, list[ContainerSignature], dict[str, str]]:
    root = _parse_xml(path)
    if etree.QName(root).localname != "ContainerSignatureMapping":
        raise SignatureFileError(f"{path}: not a container signature file (root {root.tag})")
    uri = etree.QName(root).namespace
    ns = f"{{{uri}}}" if uri else ""
    by_id: dict[str, ContainerSignature] = {}
    try:
        for el in root.iterfind(f"{ns}ContainerSignatures/{ns}ContainerSignature"):
            files = []
            for fe in el.iterfind(f"{ns}Files/{ns}File"):
                fsigs = [
                    _internal_signature(s, ns)
                    for s in fe.iterfind(
                        f"{ns}BinarySignatures/{ns}InternalSignatureCollection/{ns}InternalSignature"
                    )
                ]
                files.append(ContainerFile((fe.findtext(f"{ns}Path") or "").strip(), fsigs))
            cs = ContainerSignature(
                el.get("Id") or "",
                (el.get("ContainerType") or "").upper(),
                (el.findtext(f"{ns}Description") or "").strip(),
                files,
            )
            by_id[cs.id] = cs
    except (P.PatternError, ValueError) as e:
        raise SignatureFileError(f"{path}: {e}") from None
    for m in root.iterfind(f"{ns}FileFormatMappings/{ns}FileFormatMapping"):
        cs = by_id.get(m.get("signatureId") or "")
        if cs is not None and m.get("Puid"):
            cs.puids.append(m.get("Puid"))
    triggers = {
        t.get("Puid"): (t.get("ContainerType") or "").upper()
        for t in root.iterfind(f"{ns}TriggerPuids/{ns}TriggerPuid")
    }
    version = root.get("signatureVersion") or "?"
    return f"{path.name} (version {version})", list(by_id.values()), triggers
