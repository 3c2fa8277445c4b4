"""The official xdomea XSD sets, installed into MAGAZIN_HOME and compiled for validation.

The XSDs are published by KoSIT, not part of this repository. `install` takes a folder (or
ZIP) holding one version, or several version folders plus the XÖV helper schemas (`xoev/`),
recognises each version by its target namespace, resolves every import and include locally
(by file name, whatever URL or relative path the schema names), compiles the set and only
then puts it in place under `MAGAZIN_HOME/xdomea/schemas/<version>/` (helpers in `xoev/`).
Messages of a version whose schemas are missing are refused with a message saying how to
install them.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

ENTRY = "xdomea-Nachrichten-AussonderungDurchfuehren.xsd"
NAMESPACE = re.compile(r"^urn:xoev-de:xdomea:schema:(\d+\.\d+\.\d+)$")
XOEV = "xoev"


class SchemaError(ValueError):
    """A schema set that cannot be installed, or a version that is not installed."""


@dataclass
class InstalledVersion:
    version: str
    files: int
    path: str

    def as_dict(self) -> dict:
        return {"version": self.version, "files": self.files, "path": self.path}


def schema_dir(home: Path) -> Path:
    return home / "xdomea" / "schemas"


def _parser(resolver: etree.Resolver | None = None) -> etree.XMLParser:
    p = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    if resolver is not None:
        p.resolvers.add(resolver)
    return p


class _LocalResolver(etree.Resolver):
    """Every schemaLocation is looked up by file name among the set's files; anything else
    is refused (no network, no other file), and a missing file is named."""

    def __init__(self, files: dict[str, Path]):
        super().__init__()
        self.files, self.missing = files, []

    def resolve(self, url, pubid, context):
        name = PurePosixPath((url or "").replace("\\", "/")).name
        path = self.files.get(name)
        if path is None:
            self.missing.append(url)
            return self.resolve_string(b"", context)  # compile fails and names the file
        return self.resolve_filename(str(path), context)


def _version_of(xsd: Path) -> str | None:
    try:
        root = etree.parse(str(xsd), _parser()).getroot()
    except (etree.XMLSyntaxError, OSError):
        return None
    m = NAMESPACE.match(root.get("targetNamespace") or "")
    return m.group(1) if m else None


def _find_sets(src: Path, xoev: Path | None) -> tuple[dict[str, Path], Path | None]:
    """Version -> folder, and the XÖV helper folder."""
    sets: dict[str, Path] = {}
    folders = [src] + sorted(p for p in src.iterdir() if p.is_dir() and p.name != XOEV)
    for folder in folders:
        versions = {v for f in folder.glob("xdomea-*.xsd") if (v := _version_of(f))}
        if len(versions) > 1:
            raise SchemaError(
                f"{folder}: schemas of several versions ({', '.join(sorted(versions))})"
            )
        if versions:
            v = versions.pop()
            if v in sets:
                raise SchemaError(f"{folder}: version {v} found twice ({sets[v]})")
            sets[v] = folder
    if not sets:
        raise SchemaError(f"{src}: no xdomea schema set (no xdomea-*.xsd with an xdomea namespace)")
    if xoev is None:
        for cand in (src / XOEV, src.parent / XOEV):
            if cand.is_dir():
                xoev = cand
                break
    return sets, xoev


def _compile(version: str, folder: Path, xoev: Path | None) -> tuple[etree.XMLSchema, int]:
    entry = folder / ENTRY
    if not entry.is_file():
        raise SchemaError(f"xdomea {version}: {ENTRY} is missing in {folder}")
    files = {p.name: p for p in folder.glob("*.xsd")}
    if xoev is not None:
        files.update({p.name: p for p in xoev.glob("*.xsd") if p.name not in files})
    resolver = _LocalResolver(files)
    try:
        doc = etree.parse(str(entry), _parser(resolver))
        schema = etree.XMLSchema(doc)
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as e:
        if resolver.missing:
            names = ", ".join(sorted({PurePosixPath(u).name for u in resolver.missing}))
            hint = "" if xoev else " (give the XÖV helper schemas with --xoev DIR)"
            raise SchemaError(
                f"xdomea {version}: imported schema file(s) not found: {names}{hint}"
            ) from None
        raise SchemaError(f"xdomea {version}: the schema set does not compile: {e}") from None
    return schema, len(files)


def _unpack(zip_path: Path, into: Path) -> Path:
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            name = PurePosixPath(info.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
                raise SchemaError(f"{zip_path}: unsafe path in the ZIP: {info.filename!r}")
            if info.file_size > 64 << 20:
                raise SchemaError(f"{zip_path}: {info.filename} is too large for a schema")
        z.extractall(into)
    entries = [p for p in into.iterdir()]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


def install(home: Path, src: Path, xoev: Path | None = None) -> list[InstalledVersion]:
    """Check, compile and install every xdomea version found in `src`."""
    if not src.exists():
        raise SchemaError(f"{src}: no such file or folder")
    if xoev is not None and not xoev.is_dir():
        raise SchemaError(f"{xoev}: no such folder")
    target = schema_dir(home)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix=".install-") as tmp:
        work = Path(tmp)
        if src.is_file():
            if not zipfile.is_zipfile(src):
                raise SchemaError(f"{src}: neither a folder nor a ZIP")
            src = _unpack(src, work / "src")
        sets, xoev_dir = _find_sets(src, xoev)
        for version, folder in sorted(sets.items()):
            _compile(version, folder, xoev_dir)  # every set before anything is installed
        # lay out as the schemas expect (`../xoev/…`), then move each folder in at once
        stage = work / "stage"
        stage.mkdir()
        copies = [(stage / v, folder) for v, folder in sets.items()]
        if xoev_dir is not None:
            copies.append((stage / XOEV, xoev_dir))
        for dest, folder in copies:
            dest.mkdir()
            for f in folder.glob("*.xsd"):
                shutil.copyfile(f, dest / f.name)
        out = []
        for name in sorted(os.listdir(stage)):
            old = target / name
            if old.exists():
                shutil.rmtree(work / f"old-{name}", ignore_errors=True)
                os.rename(old, work / f"old-{name}")
            os.rename(stage / name, old)
        for version in sorted(sets):
            n = len(list((target / version).glob("*.xsd")))
            out.append(InstalledVersion(version, n, str(target / version)))
    _cache.clear()
    return out


def installed(home: Path) -> list[str]:
    d = schema_dir(home)
    if not d.is_dir():
        return []
    return sorted(
        p.name for p in d.iterdir() if NAMESPACE.match(f"urn:xoev-de:xdomea:schema:{p.name}")
    )


_cache: dict[tuple[str, str], etree.XMLSchema] = {}
_lock = threading.Lock()


def schema_for(home: Path, version: str) -> etree.XMLSchema:
    """The compiled schema of one installed version (compiled once per process)."""
    key = (str(home), version)
    with _lock:
        if key not in _cache:
            folder = schema_dir(home) / version
            if not (folder / ENTRY).is_file():
                raise SchemaError(
                    f"the xdomea {version} schemas are not installed; install them with "
                    f"`magazin xdomea schemas install DIR` (DIR: the official XSD set of "
                    f"version {version}, with the XÖV helper schemas in DIR/xoev or --xoev)"
                )
            xoev = schema_dir(home) / XOEV
            _cache[key] = _compile(version, folder, xoev if xoev.is_dir() else None)[0]
        return _cache[key]
