"""The E-ARK requirements as checks: CSIP (and, for a SIP, the SIP profile) of the version a
package declares, the CSIP folder rules, the METS schema where installed, and every file
reference with its size and checksum.

Each check returns the problems it found (an empty list: passed); `validate` runs those of the
requirements of the declared version (requirements.json, built from the DILCIS Board's
profiles) on the package METS and on each representation's METS, and reports one result per
requirement. A requirement whose subject is absent (no dmdSec: nothing to check for CSIP18)
passes. Levels come from the profile of the version: CSIP96 is a MUST in 2.0.4 and 2.1.0,
a SHOULD in 2.2.0."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, unquote_plus

from lxml import etree

from ..i18n import N_
from .package import Package

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
NS = {"m": METS, "xlink": XLINK, "csip": CSIP_NS, "sip": SIP_NS}
VERSIONS = ("2.0.4", "2.1.0", "2.2.0")
LATEST = "2.2.0"
_PROFILE = re.compile(r"^https?://eark(c?sip|aip|dip)\.dilcis\.eu/profile/E-ARK-(CSIP|SIP|AIP|DIP)"
                      r"(?:-v(\d+)-(\d+)-(\d+))?\.xml$", re.IGNORECASE)  # fmt: skip
_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
               "SHA-512": "sha512"}  # fmt: skip
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          load_dtd=False)  # fmt: skip


@functools.cache
def table() -> dict:
    return json.loads((Path(__file__).with_name("requirements.json")).read_text("utf-8"))


@dataclass
class Result:
    id: str
    level: str
    passed: bool
    message: str

    def as_dict(self) -> dict:
        return {"id": self.id, "level": self.level, "passed": self.passed,
                "message": self.message}  # fmt: skip


@dataclass
class Report:
    valid: bool
    profile: str  # CSIP | SIP | AIP | DIP (validated as CSIP, plus SIP rules for a SIP)
    version: str
    results: list[Result] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict:
        return {"valid": self.valid, "profile": self.profile, "version": self.version,
                "note": self.note, "results": [r.as_dict() for r in self.results]}  # fmt: skip


@dataclass
class Mets:
    """One METS document of the package: its path, its folder and its tree."""

    path: str
    folder: str  # "" for the package METS, "representations/<rep>" for one of a representation
    root: etree._Element
    pkg: Package

    def xp(self, path: str, node=None) -> list:
        return (node if node is not None else self.root).xpath(path, namespaces=NS)

    @property
    def is_package(self) -> bool:
        return self.folder == ""

    def target(self, href: str) -> str:
        """A reference's file, relative to the package root: as written, else percent-decoded
        (commons-ip encodes even the slashes, and spaces as '+')."""
        candidates = [self._resolve(h) for h in (href.strip(), unquote(href.strip()),
                                                 unquote_plus(href.strip()))]  # fmt: skip
        return next((c for c in candidates if self.pkg.exists(c)), candidates[1])

    def _resolve(self, href: str) -> str:
        rel = re.sub(r"^file:(//)?", "", href)
        parts: list[str] = []
        for seg in (f"{self.folder}/{rel}" if self.folder else rel).split("/"):
            if seg == "..":
                parts = parts[:-1]
            elif seg not in ("", "."):
                parts.append(seg)
        return "/".join(parts)


Check = Callable[[Mets], list[str]]
# the requirements on the package as a whole: its creating software (agents) and its
# metadata division are named in the package METS, not again in each representation's
PACKAGE_ONLY = {"CSIP9", "CSIP10", "CSIP11", "CSIP12", "CSIP13", "CSIP14", "CSIP15", "CSIP16",
                "CSIP88", "CSIP90"}  # fmt: skip
_FILES = "/m:mets/m:fileSec/m:fileGrp/m:file"
_CHECKS: dict[str, Check] = {}


def _check(*ids: str):
    def register(fn: Check) -> Check:
        for i in ids:
            _CHECKS[i] = fn
        return fn

    return register


def _vocab(name: str) -> list[str]:
    return table()["vocabularies"].get(name, [])


def _where(el) -> str:
    return f"line {el.sourceline}" if el.sourceline else ""


def _attr(elements: str, attr: str, vocab: str | None = None, value: str | None = None) -> Check:
    """Every element the path finds has the attribute (from the vocabulary, or this value)."""
    name = attr.replace("xlink:", "{%s}" % XLINK).replace("csip:", "{%s}" % CSIP_NS)  # noqa: UP031

    def check(m: Mets) -> list[str]:
        out = []
        for el in m.xp(elements):
            v = (el.get(name) or "").strip()
            tag = etree.QName(el).localname
            if not v:
                out.append(f"{m.path}, {tag} ({_where(el)}): no @{attr}")
            elif vocab and v not in _vocab(vocab) and v != "OTHER":
                out.append(f"{m.path}, {tag} ({_where(el)}): @{attr}={v!r} is not in {vocab}")
            elif value is not None and v != value:
                out.append(f"{m.path}, {tag} ({_where(el)}): @{attr}={v!r}, not {value!r}")
        return out

    return check


def _count(path: str, least: int, most: int | None, what: str) -> Check:
    def check(m: Mets) -> list[str]:
        n = len(m.xp(path))
        if n < least or (most is not None and n > most):
            want = f"{least}" if most == least else f"{least}..{most or 'n'}"
            return [f"{m.path}: {n} {what} ({want} required)"]
        return []

    return check


def _each_has(parents: str, child: str, least: int, most: int | None, what: str) -> Check:
    def check(m: Mets) -> list[str]:
        out = []
        for el in m.xp(parents):
            n = len(m.xp(child, el))
            if n < least or (most is not None and n > most):
                out.append(f"{m.path}, {etree.QName(el).localname} ({_where(el)}): {n} {what}")
        return out

    return check


def _register(ids: dict[str, Check]) -> None:
    for i, fn in ids.items():
        _CHECKS[i] = fn


# -- the METS root and header (CSIP1–CSIP16, CSIP117) -------------------------------------------


@_check("CSIP1")
def _objid(m: Mets) -> list[str]:
    """@OBJID names the package (its root folder) or the representation (its folder)."""
    objid = (m.root.get("OBJID") or "").strip()
    if not objid:
        return [f"{m.path}: no @OBJID"]
    folder = m.pkg.name if m.is_package else m.folder.rsplit("/", 1)[-1]
    if objid != folder:
        return [f"{m.path}: @OBJID {objid!r} is not the name of its folder {folder!r}"]
    return []


_register({
    "SIP1": lambda m: _attr("/m:mets", "LABEL")(m) if m.is_package else [],
    "CSIP2": _attr("/m:mets", "TYPE", "VocabularyContentCategory"),
    "CSIP6": _attr("/m:mets", "PROFILE"),
    "CSIP117": _count("/m:mets/m:metsHdr", 1, 1, "metsHdr"),
    "CSIP7": _attr("/m:mets/m:metsHdr", "CREATEDATE"),
    "CSIP9": _attr("/m:mets/m:metsHdr", "csip:OAISPACKAGETYPE", "VocabularyOAISPackageType"),
    "CSIP10": _count("/m:mets/m:metsHdr/m:agent", 1, None, "agents"),
    "CSIP14": _each_has("/m:mets/m:metsHdr/m:agent", "m:name[normalize-space()]", 1, 1,
                        "names"),
})  # fmt: skip

_SOFTWARE = "/m:mets/m:metsHdr/m:agent[@ROLE='CREATOR' and @TYPE='OTHER' and @OTHERTYPE='SOFTWARE']"


@_check("CSIP11")
def _creator(m: Mets) -> list[str]:
    if not m.xp("/m:mets/m:metsHdr/m:agent[@ROLE='CREATOR']"):
        return [f"{m.path}: no agent with ROLE='CREATOR' (the software that made the package)"]
    return []


@_check("CSIP12")
def _creator_other(m: Mets) -> list[str]:
    if not m.xp("/m:mets/m:metsHdr/m:agent[@ROLE='CREATOR' and @TYPE='OTHER']"):
        return [f"{m.path}: no creator agent with TYPE='OTHER'"]
    return []


@_check("CSIP13")
def _creator_software(m: Mets) -> list[str]:
    if not m.xp(_SOFTWARE):
        return [f"{m.path}: no creator agent with OTHERTYPE='SOFTWARE'"]
    return []


@_check("CSIP15")
def _software_note(m: Mets) -> list[str]:
    return [f"{m.path}, agent ({_where(a)}): {len(m.xp('m:note', a))} notes (1 required)"
            for a in m.xp(_SOFTWARE) if len(m.xp("m:note", a)) != 1]  # fmt: skip


@_check("CSIP16")
def _software_version(m: Mets) -> list[str]:
    return [f"{m.path}, agent ({_where(a)}): its note is not typed 'SOFTWARE VERSION'"
            for a in m.xp(_SOFTWARE)
            if not m.xp("m:note[@csip:NOTETYPE='SOFTWARE VERSION']", a)]  # fmt: skip


# -- metadata references (dmdSec, digiprovMD, rightsMD): CSIP18–CSIP57 -------------------------


def _references(section: str, ids: dict[str, str]) -> None:
    ref = f"{section}/m:mdRef"
    _register({
        ids["id"]: _attr(section, "ID"),
        ids["loctype"]: _attr(ref, "LOCTYPE", value="URL"),
        ids["type"]: _attr(ref, "xlink:type", value="simple"),
        ids["href"]: _target_exists(ref),
        ids["mdtype"]: _attr(ref, "MDTYPE"),
        ids["mimetype"]: _attr(ref, "MIMETYPE"),
        ids["size"]: _size(ref),
        ids["created"]: _attr(ref, "CREATED"),
        ids["checksum"]: _checksum(ref),
        ids["checksumtype"]: _checksum_type(ref),
    })  # fmt: skip


def _href(el) -> str:
    return (el.get(f"{{{XLINK}}}href") or "").strip()


def _named(m: Mets, el) -> str:
    """The package file an mdRef or a file (through its FLocat) names ("" if none)."""
    if etree.QName(el).localname == "file":
        loc = m.xp("m:FLocat", el)
        return m.target(_href(loc[0])) if loc else ""
    return m.target(_href(el))


def _target_exists(refs: str) -> Check:
    def check(m: Mets) -> list[str]:
        out = []
        for el in m.xp(refs):
            href = _href(el)
            if not href:
                out.append(f"{m.path} ({_where(el)}): no @xlink:href")
            elif not m.pkg.exists(m.target(href)):
                out.append(f"{m.path} ({_where(el)}): {href} is not in the package")
        return out

    return check


def _size(refs: str) -> Check:
    def check(m: Mets) -> list[str]:
        out = []
        for el in m.xp(refs):
            size, target = (el.get("SIZE") or "").strip(), _named(m, el)
            if not size:
                out.append(f"{m.path} ({_where(el)}): no @SIZE")
            elif m.pkg.exists(target) and (not size.isdigit() or int(size) != m.pkg.files[target]):
                out.append(f"{m.path} ({_where(el)}): @SIZE {size} but {target} has "
                           f"{m.pkg.files[target]} bytes")  # fmt: skip
        return out

    return check


def _digest_problems(m: Mets, el, target: str) -> list[str]:
    """The element's @CHECKSUM against the file it names (in @CHECKSUMTYPE's algorithm)."""
    value = (el.get("CHECKSUM") or "").strip().lower()
    kind = (el.get("CHECKSUMTYPE") or "").strip().upper()
    if not value:
        return [f"{m.path} ({_where(el)}): no @CHECKSUM"]
    if kind not in _ALGORITHMS or not m.pkg.exists(target):
        return []  # the type and the reference are checks of their own
    h = hashlib.new(_ALGORITHMS[kind])
    with m.pkg.open(target) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    if h.hexdigest() != value:
        return [f"{m.path} ({_where(el)}): {target}: {kind} is {h.hexdigest()}, the METS says "
                f"{value}"]  # fmt: skip
    return []


def _checksum(refs: str) -> Check:
    def check(m: Mets) -> list[str]:
        return [p for el in m.xp(refs) for p in _digest_problems(m, el, _named(m, el))]

    return check


def _checksum_type(refs: str) -> Check:
    def check(m: Mets) -> list[str]:
        return [f"{m.path} ({_where(el)}): @CHECKSUMTYPE {el.get('CHECKSUMTYPE')!r} is not one "
                f"of {', '.join(_ALGORITHMS)}" for el in m.xp(refs)
                if el.get("CHECKSUMTYPE") and el.get("CHECKSUMTYPE").upper() not in _ALGORITHMS
                ] + _attr(refs, "CHECKSUMTYPE")(m)  # fmt: skip

    return check


_references("/m:mets/m:dmdSec", {"id": "CSIP18", "loctype": "CSIP22", "type": "CSIP23",
            "href": "CSIP24", "mdtype": "CSIP25", "mimetype": "CSIP26", "size": "CSIP27",
            "created": "CSIP28", "checksum": "CSIP29", "checksumtype": "CSIP30"})  # fmt: skip
_register({"CSIP19": _attr("/m:mets/m:dmdSec", "CREATED")})
_references("/m:mets/m:amdSec/m:digiprovMD", {"id": "CSIP33", "loctype": "CSIP36",
            "type": "CSIP37", "href": "CSIP38", "mdtype": "CSIP39", "mimetype": "CSIP40",
            "size": "CSIP41", "created": "CSIP42", "checksum": "CSIP43",
            "checksumtype": "CSIP44"})  # fmt: skip
_references("/m:mets/m:amdSec/m:rightsMD", {"id": "CSIP46", "loctype": "CSIP49",
            "type": "CSIP50", "href": "CSIP51", "mdtype": "CSIP52", "mimetype": "CSIP53",
            "size": "CSIP54", "created": "CSIP55", "checksum": "CSIP56",
            "checksumtype": "CSIP57"})  # fmt: skip


# -- the file section: CSIP59–CSIP79, CSIP113, CSIP114 ------------------------------------------

_register({
    "CSIP59": _attr("/m:mets/m:fileSec", "ID"),
    "CSIP64": _attr("/m:mets/m:fileSec/m:fileGrp", "USE"),
    "CSIP65": _attr("/m:mets/m:fileSec/m:fileGrp", "ID"),
    "CSIP66": _each_has("/m:mets/m:fileSec/m:fileGrp", "m:file", 1, None, "files"),
    "CSIP67": _attr(_FILES, "ID"),
    "CSIP68": _attr(_FILES, "MIMETYPE"),
    "CSIP70": _attr(_FILES, "CREATED"),
    "CSIP76": _each_has(_FILES, "m:FLocat", 1, 1, "FLocat"),
    "CSIP77": _attr(f"{_FILES}/m:FLocat", "LOCTYPE", value="URL"),
    "CSIP78": _attr(f"{_FILES}/m:FLocat", "xlink:type", value="simple"),
    "CSIP79": _target_exists(f"{_FILES}/m:FLocat"),
})  # fmt: skip


_register({"CSIP69": _size(_FILES), "CSIP71": _checksum(_FILES),
           "CSIP72": _checksum_type(_FILES)})  # fmt: skip


def _holds(folder: str) -> Callable[[Mets], bool]:
    """The METS's folder holds files in this subfolder."""

    def holds(m: Mets) -> bool:
        base = f"{m.folder}/{folder}/" if m.folder else f"{folder}/"
        return any(f.startswith(base) for f in m.pkg.files)

    return holds


def _grp(use: str, folder: str) -> Check:
    """Files in the folder are listed in a fileGrp of this USE."""
    holds = _holds(folder)

    def check(m: Mets) -> list[str]:
        groups = [g for g in m.xp("/m:mets/m:fileSec/m:fileGrp")
                  if (g.get("USE") or "").startswith(use)]  # fmt: skip
        if holds(m) and not groups:
            return [f"{m.path}: its {folder} folder holds files but there is no fileGrp "
                    f"USE='{use}'"]  # fmt: skip
        return []

    return check


_register({"CSIP60": _grp("Documentation", "documentation"),
           "CSIP113": _grp("Schemas", "schemas")})  # fmt: skip


@_check("CSIP114")
def _representation_groups(m: Mets) -> list[str]:
    if not m.is_package:
        return []
    reps = {f.split("/")[1] for f in m.pkg.files if f.startswith("representations/")
            and f.count("/") >= 2}  # fmt: skip
    groups = [g for g in m.xp("/m:mets/m:fileSec/m:fileGrp")
              if (g.get("USE") or "").startswith("Representations")]  # fmt: skip
    if reps and not groups:
        return [f"{m.path}: {len(reps)} representation(s) but no fileGrp USE='Representations…'"]
    return []


# -- the structural map: CSIP80–CSIP119 -------------------------------------------------------

_CSIP_MAP = "/m:mets/m:structMap[@LABEL='CSIP']"
_TOP = f"{_CSIP_MAP}/m:div"
_register({
    "CSIP80": _count("/m:mets/m:structMap", 1, None, "structMap"),
    "CSIP81": _count("/m:mets/m:structMap[@TYPE='PHYSICAL']", 1, None, "structMap TYPE='PHYSICAL'"),
    "CSIP82": _count(_CSIP_MAP, 1, 1, "structMap LABEL='CSIP'"),
    "CSIP83": _attr(_CSIP_MAP, "ID"),
    "CSIP84": _each_has(_CSIP_MAP, "m:div", 1, 1, "top-level div"),
    "CSIP85": _attr(_TOP, "ID"),
    "CSIP86": _attr(_TOP, "LABEL"),
    "CSIP106": _attr(f"{_TOP}/m:div", "ID"),
    "CSIP107": _attr(f"{_TOP}/m:div", "LABEL"),
    "CSIP110": _attr(f"{_TOP}/m:div/m:mptr", "xlink:href"),
    "CSIP111": _attr(f"{_TOP}/m:div/m:mptr", "xlink:type", value="simple"),
    "CSIP112": _attr(f"{_TOP}/m:div/m:mptr", "LOCTYPE", value="URL"),
})  # fmt: skip


def _division(label: str, rid_id: str, rid_label: str, rid_fptr: str | None,
              required_if: Callable[[Mets], bool] | None = None) -> None:  # fmt: skip
    div = f"{_TOP}/m:div[@LABEL='{label}']"

    def present(m: Mets) -> list[str]:
        if required_if is not None and required_if(m) and not m.xp(div):
            return [f"{m.path}: no div LABEL='{label}' in the CSIP structMap"]
        return []

    def fptrs(m: Mets) -> list[str]:
        groups = {g.get("ID") for g in m.xp("/m:mets/m:fileSec/m:fileGrp") if g.get("ID")}
        files = {f.get("ID") for f in m.xp(_FILES) if f.get("ID")}
        return [f"{m.path}, fptr ({_where(p)}): FILEID {p.get('FILEID')!r} names no fileGrp"
                for p in m.xp(f"{div}/m:fptr")
                if not p.get("FILEID") or p.get("FILEID") not in groups | files]  # fmt: skip

    _CHECKS[rid_id] = _attr(div, "ID")
    _CHECKS[rid_label] = present
    if rid_fptr:
        _CHECKS[rid_fptr] = fptrs


def _has_metadata(m: Mets) -> bool:
    return bool(m.xp("/m:mets/m:dmdSec | /m:mets/m:amdSec/*"))


_division("Metadata", "CSIP89", "CSIP88", None, _has_metadata)
_CHECKS["CSIP90"] = _CHECKS["CSIP88"]


_division("Documentation", "CSIP94", "CSIP95", "CSIP116", _holds("documentation"))
_division("Schemas", "CSIP98", "CSIP99", "CSIP118", _holds("schemas"))
_division("Representations", "CSIP102", "CSIP103", "CSIP119")


def _fptr_each(label: str) -> Check:  # 2.0.4 and 2.1.0: such a div points to its files
    def check(m: Mets) -> list[str]:
        return [f"{m.path}: div LABEL='{label}' ({_where(d)}) points to no files"
                for d in m.xp(f"{_TOP}/m:div[@LABEL='{label}']")
                if not m.xp("m:fptr | m:mptr", d)]  # fmt: skip

    return check


_register({"CSIP96": _fptr_each("Documentation"), "CSIP100": _fptr_each("Schemas"),
           "CSIP104": _fptr_each("Representations")})  # fmt: skip


def _rep_divs(m: Mets) -> list:
    return [d for d in m.xp(f"{_TOP}/m:div") if (d.get("LABEL") or "").startswith(
        "Representations/")]  # fmt: skip


@_check("CSIP108")
def _mptr_title(m: Mets) -> list[str]:
    groups = {g.get("ID") for g in m.xp("/m:mets/m:fileSec/m:fileGrp") if g.get("ID")}
    out = []
    for d in _rep_divs(m):
        for p in m.xp("m:mptr", d):
            title = p.get(f"{{{XLINK}}}title")
            if not title:
                out.append(f"{m.path}, mptr ({_where(p)}): no @xlink:title")
            elif groups and title not in groups:
                out.append(f"{m.path}, mptr ({_where(p)}): @xlink:title {title!r} names no "
                           f"fileGrp")  # fmt: skip
    return out


@_check("CSIP109")
def _mptr_one(m: Mets) -> list[str]:
    return [f"{m.path}, div {d.get('LABEL')!r} ({_where(d)}): {len(m.xp('m:mptr', d))} mptr "
            f"(1 required)" for d in _rep_divs(m) if len(m.xp("m:mptr", d)) != 1]  # fmt: skip


# -- the SIP profile ------------------------------------------------------------------------------

_AGENTS = "/m:mets/m:metsHdr/m:agent[not(@TYPE='OTHER' and @OTHERTYPE='SOFTWARE')]"


@_check("SIP2")
def _sip_profile(m: Mets) -> list[str]:
    if not m.is_package:
        return []
    p = m.root.get("PROFILE") or ""
    match = _PROFILE.match(p)
    if not match or match[2].upper() != "SIP":
        return [f"{m.path}: @PROFILE {p!r} is not an E-ARK SIP profile"]
    return []


@_check("SIP4")
def _sip_type(m: Mets) -> list[str]:
    t = m.xp("string(/m:mets/m:metsHdr/@csip:OAISPACKAGETYPE)")
    return [] if t == "SIP" or not m.is_package else [f"{m.path}: OAISPACKAGETYPE {t!r}, not SIP"]


_register({
    **{i: _attr(_AGENTS, "ROLE") for i in ("SIP10", "SIP16", "SIP22", "SIP27")},
    **{i: _each_has(_AGENTS, "m:name[normalize-space()]", 1, 1, "names")
       for i in ("SIP12", "SIP18", "SIP24", "SIP29")},
    **{i: _attr(f"{_AGENTS}/m:note", "csip:NOTETYPE") for i in ("SIP20",)},
    **{i: _attr(f"{_AGENTS}/m:note", "csip:NOTETYPE", value="IDENTIFICATIONCODE")
       for i in ("SIP14", "SIP31")},
    "SIP28": _attr("/m:mets/m:metsHdr/m:agent[@ROLE='PRESERVATION']", "TYPE",
                   value="ORGANIZATION"),
})  # fmt: skip


@_check("SIP11", "SIP17")
def _agent_types(m: Mets) -> list[str]:
    return [f"{m.path}, agent ({_where(a)}): TYPE {a.get('TYPE')!r}, not ORGANIZATION or "
            f"INDIVIDUAL" for a in m.xp(_AGENTS)
            if a.get("TYPE") not in ("ORGANIZATION", "INDIVIDUAL")]  # fmt: skip


@_check("SIP15")
def _submitting(m: Mets) -> list[str]:
    if m.is_package and not m.xp("/m:mets/m:metsHdr/m:agent[@ROLE='CREATOR' and "
                                 "(@TYPE='ORGANIZATION' or @TYPE='INDIVIDUAL')]"):  # fmt: skip
        return [f"{m.path}: no submitting agent (ROLE='CREATOR', TYPE ORGANIZATION or "
                f"INDIVIDUAL)"]  # fmt: skip
    return []


@_check("SIP23")
def _contact(m: Mets) -> list[str]:
    return [f"{m.path}, agent ({_where(a)}): a contact person is an INDIVIDUAL"
            for a in m.xp("/m:mets/m:metsHdr/m:agent[@ROLE='CREATOR' and @TYPE!='ORGANIZATION' "
                          "and @TYPE!='OTHER' and @TYPE!='INDIVIDUAL']")]  # fmt: skip


# -- the folder rules ---------------------------------------------------------------------------


def _folder_results(pkg: Package, levels: dict[str, str]) -> list[Result]:
    reps = sorted({f.split("/")[1] for f in pkg.files
                   if f.startswith("representations/") and f.count("/") >= 2})  # fmt: skip
    dirs = pkg.dirs()

    def r(rid: str, problems: list[str]) -> Result:
        return Result(rid, levels.get(rid, "MUST"), not problems, "; ".join(problems))

    return [
        r("CSIPSTR1", [pkg.root_problem] if pkg.root_problem else []),
        r("CSIPSTR4", [] if pkg.exists("METS.xml") else ["no METS.xml in the package root"]),
        r("CSIPSTR5", [] if "metadata" in dirs else ["no metadata folder"]),
        r("CSIPSTR9", [] if "representations" in dirs else ["no representations folder"]),
        r("CSIPSTR11", [f"representations/{x}: no data folder" for x in reps
                        if f"representations/{x}/data" not in dirs]),
        r("CSIPSTR12", [f"representations/{x}: no METS.xml" for x in reps
                        if not pkg.exists(f"representations/{x}/METS.xml")]),
        r("CSIPSTR14", []),  # MAY: further folders are allowed
        r("CSIPSTR15", [] if _anywhere(dirs, "schemas") else ["no schemas folder"]),
        r("CSIPSTR16", [] if _anywhere(dirs, "documentation") else ["no documentation folder"]),
    ]  # fmt: skip


def _anywhere(dirs: set[str], name: str) -> bool:
    """The folder in the package root or in (one of) the representation folders."""
    return any(d == name or (d.startswith("representations/") and d.endswith(f"/{name}"))
               for d in dirs)  # fmt: skip


# -- the whole validation -----------------------------------------------------------------------


def declared(root: etree._Element | None) -> tuple[str, str, str]:
    """(profile, version, note) as the package METS declares them: the unversioned profile
    and one not recognised are validated as the latest version, and the note says so."""
    url = (root.get("PROFILE") if root is not None else None) or ""
    m = _PROFILE.match(url)
    if not m:  # the package type it names then says which profile's rules apply as well
        said = root.xpath("string(/m:mets/m:metsHdr/@csip:OAISPACKAGETYPE)", namespaces=NS) \
            if root is not None else ""  # fmt: skip
        kind = said if said in ("SIP", "AIP", "DIP") else "CSIP"
        note = N_("no E-ARK profile declared ({url!r}): validated as {kind} {v}").format(
            url=url, kind=kind, v=LATEST)  # fmt: skip
        return kind, LATEST, note
    kind = m[2].upper()
    if m[3] is None:
        return kind, LATEST, N_("the unversioned profile {url}: validated as version {v}").format(
            url=url, v=LATEST)  # fmt: skip
    version = f"{m[3]}.{m[4]}.{m[5]}"
    if version not in VERSIONS:
        return kind, LATEST, N_("profile version {got} is not known here: validated as {v}").format(
            got=version, v=LATEST)  # fmt: skip
    return kind, version, ""


def _parse(pkg: Package, rel: str) -> tuple[etree._Element | None, str]:
    try:
        return etree.fromstring(pkg.read(rel), _PARSER), ""
    except (etree.XMLSyntaxError, ValueError) as e:
        return None, f"{rel}: not well-formed XML ({e})"


def validate(pkg: Package, schemas: Path | None = None) -> Report:
    """Every requirement of the version the package declares, on the package METS and each
    representation's METS; `schemas`: a folder with mets.xsd (and xlink.xsd), or None."""
    levels_csipstr = {r["id"]: r["level"] for r in table()[LATEST]["CSIPSTR"]}
    results = _folder_results(pkg, levels_csipstr)
    root, problem = (None, "") if not pkg.exists("METS.xml") else _parse(pkg, "METS.xml")
    profile, version, note = declared(root)
    if root is None:
        if problem:
            results = [r if r.id != "CSIPSTR4" else Result("CSIPSTR4", "MUST", False, problem)
                       for r in results]  # fmt: skip
        return _report(profile, version, note, results)
    documents = [Mets("METS.xml", "", root, pkg)]
    reps = sorted({f.split("/")[1] for f in pkg.files
                   if f.startswith("representations/") and f.count("/") >= 2})  # fmt: skip
    broken: list[str] = []
    for rep in reps:
        path = f"representations/{rep}/METS.xml"
        if pkg.exists(path):
            r_root, r_problem = _parse(pkg, path)
            if r_root is None:
                broken.append(r_problem)
            else:
                documents.append(Mets(path, f"representations/{rep}", r_root, pkg))
    if broken:
        results.append(Result("CSIPSTR12", "SHOULD", False, "; ".join(broken)))
    if schemas is not None and (schemas / "mets.xsd").is_file():
        results.append(_schema_result(documents, schemas))
    else:
        results.append(Result("METS-XSD", "SHOULD", False, N_(
            "the METS schema was not checked: it is not installed (magazin eark schemas "
            "install)")))  # fmt: skip
    parts = ["CSIP"] + (["SIP"] if profile == "SIP" else [])
    for part in parts:
        for req in table()[version][part]:
            check = _CHECKS.get(req["id"])
            if check is None:
                continue
            problems = [p for d in documents if d.is_package or req["id"] not in PACKAGE_ONLY
                        for p in check(d)]  # fmt: skip
            results.append(Result(req["id"], req["level"], not problems, "; ".join(problems[:20])
                                  + (f"; … ({len(problems)} in all)" if len(problems) > 20
                                     else "")))  # fmt: skip
    return _report(profile, version, note, results)


def _report(profile: str, version: str, note: str, results: list[Result]) -> Report:
    valid = all(r.passed for r in results if r.level == "MUST")
    return Report(valid, profile, version, results, note)


@functools.cache
def _schema(folder: str):
    with open(Path(folder) / "mets.xsd", "rb") as f:
        doc = etree.parse(f, etree.XMLParser(no_network=True))
    xlink = Path(folder) / "xlink.xsd"
    for imp in doc.getroot().iter("{http://www.w3.org/2001/XMLSchema}import"):
        if imp.get("namespace") == XLINK and xlink.is_file():
            imp.set("schemaLocation", xlink.as_uri())
    return etree.XMLSchema(doc)


def _schema_result(documents: list[Mets], schemas: Path) -> Result:
    try:
        schema = _schema(str(schemas))
    except etree.XMLSchemaParseError as e:
        return Result("METS-XSD", "MUST", False, f"the installed METS schema does not load: {e}")
    problems = []
    for d in documents:
        if not schema.validate(etree.ElementTree(d.root)):
            problems += [f"{d.path}, line {e.line}: {e.message}" for e in schema.error_log][:5]
    return Result("METS-XSD", "MUST", not problems, "; ".join(problems))
