"""Text of PDF, DOCX, ODT and plain-text files for the full-text index.

Bounded: at most MAX_TEXT characters per file, ZIP members read up to MAX_MEMBER bytes, XML
parsed without DTDs or entities. A file whose text cannot be read yields "" (the search then
finds it by its metadata only); nothing here raises on bad input.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from lxml import etree

MAX_TEXT = 1_000_000
MAX_MEMBER = 64 << 20
_log = logging.getLogger(__name__)

_PUIDS_PDF = ("fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276")


def kind_of(name: str, mime: str | None, puid: str | None) -> str | None:
    """pdf | docx | odt | txt, or None for files the index does not read."""
    n = name.lower()
    m = (mime or "").lower()
    if m == "application/pdf" or n.endswith(".pdf") or (puid or "") in _PUIDS_PDF:
        return "pdf"
    if "wordprocessingml" in m or n.endswith(".docx"):
        return "docx"
    if m == "application/vnd.oasis.opendocument.text" or n.endswith(".odt"):
        return "odt"
    if m.startswith("text/plain") or n.endswith((".txt", ".text")):
        return "txt"
    return None


def extract_text(path: Path, kind: str) -> str:
    try:
        if kind == "pdf":
            text = _pdf(path)
        elif kind == "docx":
            text = _xml_text(path, "word/document.xml", "p")
        elif kind == "odt":
            text = _xml_text(path, "content.xml", "p", "h")
        elif kind == "txt":
            text = _txt(path)
        else:
            return ""
    except Exception as e:  # a damaged or hostile file: indexed by its metadata only
        _log.info("no text from %s: %s", path, e)
        return ""
    return text[:MAX_TEXT]


def _pdf(path: Path) -> str:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    out, size = [], 0
    for page in PdfReader(str(path)).pages:
        t = page.extract_text() or ""
        out.append(t)
        size += len(t)
        if size >= MAX_TEXT:
            break
    return "\n".join(out)


def _xml_text(path: Path, member: str, *paragraphs: str) -> str:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
        if info.file_size > MAX_MEMBER:
            return ""
        data = zf.read(info)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(data, parser)
    out = []
    for el in root.iter():
        if isinstance(el.tag, str) and etree.QName(el).localname in paragraphs:
            out.append("".join(_runs(el)))
    return "\n".join(out)


# elements that stand for white space: ODF text:s (c spaces), text:tab, text:line-break;
# OOXML w:tab, w:br, w:cr
_SPACE = {"s": " ", "tab": "\t", "line-break": "\n", "br": "\n", "cr": "\n"}


def _runs(el):
    """A paragraph's text with the spaces its markup stands for (itertext drops them)."""
    if el.text:
        yield el.text
    for child in el:
        if isinstance(child.tag, str):
            name = etree.QName(child).localname
            if name in _SPACE:
                count = next((v for k, v in child.attrib.items() if k.endswith("}c")), "1")
                yield _SPACE[name] * (int(count) if count.isdigit() else 1)
            else:
                yield from _runs(child)
        if child.tail:
            yield child.tail


def _txt(path: Path) -> str:
    with open(path, "rb") as f:
        data = f.read(MAX_TEXT * 2)
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
