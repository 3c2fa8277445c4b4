"""The schemas an E-ARK validation needs (METS, XLink and the DILCIS extensions), installed into
MAGAZIN_HOME/eark/schemas from the files the DILCIS Board and the Library of Congress publish,
and checked to load before they are put in place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from lxml import etree

REQUIRED = ("mets.xsd", "xlink.xsd")
OPTIONAL = ("DILCISExtensionMETS.xsd", "DILCISExtensionSIPMETS.xsd")


class SchemaError(ValueError):
    """The files given are not a usable set (the message says what is missing or wrong)."""


def schema_dir(home: Path) -> Path:
    return home / "eark" / "schemas"


def install(home: Path, sources: list[Path]) -> list[str]:
    """Copy mets.xsd and xlink.xsd (and the DILCIS extensions where given) from the folders
    or files `sources` into MAGAZIN_HOME; nothing changes unless METS loads with them."""
    found: dict[str, Path] = {}
    for src in sources:
        for p in [src] if src.is_file() else sorted(src.rglob("*.xsd")):
            if p.name in REQUIRED + OPTIONAL and p.name not in found:
                found[p.name] = p
    missing = [n for n in REQUIRED if n not in found]
    if missing:
        raise SchemaError(f"not found in {', '.join(map(str, sources))}: {', '.join(missing)}")
    dest = schema_dir(home)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".schemas-", dir=dest.parent))
    try:
        for name, p in found.items():
            shutil.copyfile(p, staging / name)
        from .checks import _schema

        try:
            _schema(str(staging))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as e:
            raise SchemaError(f"mets.xsd does not load with this xlink.xsd: {e}") from None
        if dest.exists():
            old = dest.with_name(".schemas-old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(dest, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(found)


def installed(home: Path) -> Path | None:
    d = schema_dir(home)
    return d if all((d / n).is_file() for n in REQUIRED) else None
