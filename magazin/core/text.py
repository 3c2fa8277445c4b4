"""Text of PDF, DOCX, ODT, RTF, Word (97-2003 and older), WordPerfect and plain-text files,
for the full-text index and for the check that a migration kept a document's words.

Bounded: at most MAX_TEXT characters per file, ZIP members read up to MAX_MEMBER bytes, XML
parsed without DTDs or entities, the external readers (antiword for Word, wpd2text for
WordPerfect, from Debian) time-boxed. A file whose text cannot be read yields "" (the search
then finds it by its metadata only); nothing here raises on bad input.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import zipfile
from pathlib import Path

from lxml import etree

MAX_TEXT = 1_000_000
MAX_MEMBER = 64 << 20
_log = logging.getLogger(__name__)

_PUIDS_PDF = ("fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276")
_PUIDS_RTF = ("fmt/45", "fmt/50", "fmt/51", "fmt/52", "fmt/53", "fmt/355", "fmt/969")
_PUIDS_DOC = ("fmt/37", "fmt/38", "fmt/39", "fmt/40", "fmt/609", "fmt/754", "x-fmt/274",
              "x-fmt/275", "x-fmt/276")  # fmt: skip
_PUIDS_WPD = ("x-fmt/44", "x-fmt/393", "x-fmt/394", "fmt/1752")
TOOL_TIMEOUT_S = 60


def kind_of(name: str, mime: str | None, puid: str | None) -> str | None:
    """pdf | docx | odt | rtf | doc | wpd | txt, or None for files the index does not read."""
    n = name.lower()
    m = (mime or "").lower()
    puid = puid or ""
    if m == "application/pdf" or n.endswith(".pdf") or puid in _PUIDS_PDF:
        return "pdf"
    if m in ("application/rtf", "text/rtf") or n.endswith(".rtf") or puid in _PUIDS_RTF:
        return "rtf"
    if m == "application/msword" or n.endswith(".doc") or puid in _PUIDS_DOC:
        return "doc"
    if "wordperfect" in m or n.endswith(".wpd") or puid in _PUIDS_WPD:
        return "wpd"
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
        elif kind == "rtf":
            text = _rtf(path)
        elif kind == "doc":
            text = _tool_text(["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)])
        elif kind == "wpd":
            text = _tool_text(["wpd2text", str(path)])
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


def _rtf(path: Path) -> str:
    from striprtf.striprtf import rtf_to_text

    with open(path, "rb") as f:
        data = f.read(MAX_MEMBER)
    # RTF is 7-bit: its other characters are escapes (\'e4, \u228), decoded by striprtf
    return rtf_to_text(data.decode("latin-1"), encoding="cp1252", errors="replace")


def _tool_text(cmd: list[str]) -> str:
    """The text an external reader prints (UTF-8); "" where it is not installed."""
    if shutil.which(cmd[0]) is None:
        _log.info("%s is not installed: no text from %s", cmd[0], cmd[-1])
        return ""
    out = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL,
                         timeout=TOOL_TIMEOUT_S, check=True)  # fmt: skip
    return out.stdout.decode("utf-8", "replace")
