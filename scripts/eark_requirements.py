"""Build Magazin's table of E-ARK requirements (magazin/core/eark/requirements.json) from the
DILCIS Board's published profiles (CSIP and SIP 2.0.4, 2.1.0, 2.2.0; CC-BY-4.0) and the
CSIP specification's folder rules CSIPSTR1-17. Run it when a new version is published:

    python scripts/eark_requirements.py [../shared/fixtures/eark]

The table names each requirement's id, level (MUST, SHOULD, MAY), title, METS XPath and
cardinality, per version; the checks themselves are code (magazin/core/eark/checks.py)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from lxml import etree

VERSIONS = ("2.0.4", "2.1.0", "2.2.0")
HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "magazin" / "core" / "eark" / "requirements.json"


def _profile(path: Path) -> list[dict]:
    out = []
    for r in etree.parse(str(path)).iter("{*}requirement"):
        rid, level = r.get("ID"), r.get("REQLEVEL")
        if not rid or not level or rid.startswith("REF_"):
            continue
        info = {dt.text: (dt.getnext().text or "").strip() for dt in r.iter("{*}dt")}
        head = " ".join((r.findtext("{*}description/{*}head") or "").split())
        out.append(
            {
                "id": rid,
                "level": level,
                "head": head,
                "xpath": info.get("METS XPath", ""),
                "cardinality": info.get("Cardinality", ""),
            }
        )
    return out


def _folder_rules(md: Path) -> list[dict]:
    out = []
    for m in re.finditer(r"\*\*(CSIPSTR\d+)\*\*: (.+)", md.read_text("utf-8")):
        text = m[2].strip()
        level = next((w for w in ("MUST", "SHOULD", "MAY") if f"**{w}**" in text), "MAY")
        plain = re.sub(r"\*\*|`|\[see (CSIPSTR\d+)\]\(#\w+\)", lambda x: x[1] or "", text)
        out.append(
            {
                "id": m[1],
                "level": level,
                "head": plain.split(". ")[0][:160],
                "xpath": "",
                "cardinality": "",
            }
        )
    return out


def _vocabularies(src: Path) -> dict[str, list[str]]:
    """The DILCIS vocabularies (VocabularyOAISPackageType …) with their terms."""
    out: dict[str, list[str]] = {}
    for f in sorted((src / "csip-spec/schema").glob("CSIPVocabulary*.xml")):
        for voc in etree.parse(str(f)).iter("{*}Vocabulary"):
            out[voc.get("Name")] = [t.text.strip() for t in voc.iter("{*}Term") if t.text]
    return out


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared/fixtures/eark"
    folders = _folder_rules(
        src / "csip-spec/specification/implementation/structure/folders/requirements.md"
    )
    table = {}
    for v in VERSIONS:
        tag = v.replace(".", "-")
        table[v] = {
            "CSIP": _profile(src / f"csip-spec/profile/E-ARK-CSIP-v{tag}.xml"),
            "SIP": _profile(src / f"sip-spec/profile/E-ARK-SIP-v{tag}.xml"),
            "CSIPSTR": folders,
        }
    table["vocabularies"] = _vocabularies(src)
    OUT.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", "utf-8")
    for v in VERSIONS:
        print(v, {k: sum(r["level"] == "MUST" for r in rs) for k, rs in table[v].items()})


if __name__ == "__main__":
    main()
