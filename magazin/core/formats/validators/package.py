"""Office packages: ODF (mimetype first and stored, META-INF/manifest.xml naming every part)
and OOXML (OPC: [Content_Types].xml giving every part a type, relationships pointing at
parts that exist); in both, every part's CRC checked and every XML part well-formed."""

from __future__ import annotations

import hashlib
import posixpath
import zipfile
import zlib
from collections import OrderedDict

from lxml import etree

from ...i18n import N_
from . import Validation, ValidatorPolicy, invalid, not_validated, valid

MAX_UNPACKED = 2 << 30  # a package that unpacks to more is not validated (a bomb)
MAX_RATIO = 200
_MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False)  # fmt: skip
# the parts read for the package's structure; every other XML part is only checked to be
# well-formed, without building its tree (twice as fast)
_STRUCTURE = ("META-INF/manifest.xml", "[Content_Types].xml")
# Documents made from one template share large parts byte for byte (styles, themes, font
# tables): a part already found well-formed by this worker is not parsed again. Keyed by
# the part's BLAKE2b digest; bounded, least recently used first out.
_WELL_FORMED: OrderedDict[bytes, None] = OrderedDict()
_WELL_FORMED_MAX = 4096
_WELL_FORMED_MIN_BYTES = 16 << 10


class _NoTree:
    """An lxml parser target that keeps nothing: well-formedness only."""

    def close(self) -> None:
        return None


def tool() -> str:
    return f"Magazin package check (lxml {etree.__version__})"


def validate(path: str, policy: ValidatorPolicy, family: str = "odf", **_) -> Validation:
    name = tool()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        return invalid(name, [N_("not a readable ZIP package: {error}").format(error=e)])
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > MAX_UNPACKED or (total > 100 << 20 and total / packed > MAX_RATIO):
            return not_validated(name, N_("unpacks to {n} bytes, more than the limit").format(
                n=total))  # fmt: skip
        problems: list[str] = []
        xml: dict[str, etree._Element] = {}
        for info in infos:
            if info.is_dir():
                continue
            try:
                data = zf.read(info)  # checks the CRC
            except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError) as e:
                problems.append(N_("part {part}: {error}").format(part=info.filename, error=e))
                continue
            # an empty part (LibreOffice writes an empty accelerator/current.xml) holds no XML
            if data and (info.filename.endswith((".xml", ".rels")) or data[:5] == b"<?xml"):
                try:
                    if info.filename in _STRUCTURE or info.filename.endswith(".rels"):
                        xml[info.filename] = etree.fromstring(data, _PARSER)
                    else:
                        _check_well_formed(data)
                except etree.XMLSyntaxError as e:
                    problems.append(
                        N_("part {part}: not well-formed XML: {error}").format(
                            part=info.filename, error=e
                        )
                    )
        names = {i.filename for i in infos if not i.is_dir()}
        if family == "odf":
            problems += _odf(zf, infos, names, xml)
            kind = "ODF"
        else:
            problems += _ooxml(names, xml)
            kind = "OOXML"
    if problems:
        return invalid(name, problems)
    return valid(name, N_("{kind} package: {n} parts, structure and XML well-formed").format(
        kind=kind, n=len(names)))  # fmt: skip


def _check_well_formed(data: bytes) -> None:
    """Raise XMLSyntaxError unless `data` is well-formed XML (entities not resolved, no DTD
    loaded, no network), remembering large parts found well-formed."""
    key = None
    if len(data) >= _WELL_FORMED_MIN_BYTES:
        key = hashlib.blake2b(data, digest_size=20).digest()
        if key in _WELL_FORMED:
            _WELL_FORMED.move_to_end(key)
            return
    parser = etree.XMLParser(target=_NoTree(), resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False)  # fmt: skip
    parser.feed(data)
    parser.close()
    if key is not None:
        _WELL_FORMED[key] = None
        if len(_WELL_FORMED) > _WELL_FORMED_MAX:
            _WELL_FORMED.popitem(last=False)


def _odf(zf: zipfile.ZipFile, infos, names: set[str], xml: dict) -> list[str]:
    problems = []
    first = infos[0] if infos else None
    if first is None or first.filename != "mimetype":
        problems.append(N_("the first part is not 'mimetype'"))
    elif first.compress_type != zipfile.ZIP_STORED:
        problems.append(N_("'mimetype' is compressed (it must be stored)"))
    manifest = xml.get("META-INF/manifest.xml")
    if manifest is None:
        if "META-INF/manifest.xml" not in names:
            problems.append(N_("META-INF/manifest.xml is missing"))
        return problems
    mimetype = zf.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
    listed = set()
    for entry in manifest.iter(f"{{{_MANIFEST_NS}}}file-entry"):
        full = entry.get(f"{{{_MANIFEST_NS}}}full-path", "")
        if full == "/":
            media = entry.get(f"{{{_MANIFEST_NS}}}media-type", "")
            if mimetype and media and media != mimetype:
                problems.append(N_("manifest says {manifest}, mimetype says {mimetype}").format(
                    manifest=media, mimetype=mimetype))  # fmt: skip
            continue
        listed.add(full)
        if not full.endswith("/") and full not in names:
            problems.append(N_("manifest lists {part}, which is missing").format(part=full))
    for n in sorted(names):
        if n in ("mimetype", "META-INF/manifest.xml") or n.startswith("META-INF/"):
            continue
        if n not in listed:
            problems.append(N_("part {part} is not in the manifest").format(part=n))
    if "content.xml" not in names and mimetype.startswith("application/vnd.oasis.opendocument"):
        problems.append(N_("content.xml is missing"))
    return problems


def _ooxml(names: set[str], xml: dict) -> list[str]:
    problems = []
    types = xml.get("[Content_Types].xml")
    if types is None:
        return [N_("[Content_Types].xml is missing or unreadable")]
    defaults = {d.get("Extension", "").lower() for d in types.iter(f"{{{_CT_NS}}}Default")}
    overrides = {o.get("PartName", "").lstrip("/") for o in types.iter(f"{{{_CT_NS}}}Override")}
    for part in sorted(overrides - names):
        problems.append(N_("[Content_Types].xml names {part}, which is missing").format(part=part))
    for n in sorted(names):
        if n == "[Content_Types].xml" or n.endswith("/"):
            continue
        ext = n.rsplit(".", 1)[-1].lower() if "." in n.rsplit("/", 1)[-1] else ""
        if n not in overrides and ext not in defaults:
            problems.append(N_("part {part} has no content type").format(part=n))
    if "_rels/.rels" not in names:
        problems.append(N_("_rels/.rels is missing"))
    for rels_name, root in xml.items():
        if not rels_name.endswith(".rels"):
            continue
        base = posixpath.dirname(posixpath.dirname(rels_name))
        for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            part = (target.lstrip("/") if target.startswith("/")
                    else posixpath.normpath(posixpath.join(base, target)))  # fmt: skip
            part = part.split("#", 1)[0]
            if part and part not in names:
                problems.append(N_("{rels} points at {part}, which is missing").format(
                    rels=rels_name, part=part))  # fmt: skip
    return problems
