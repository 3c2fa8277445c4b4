"""The format register: for each format held (by PRONOM PUID) its risk - low, medium, high,
shown as a traffic light - a note, and the preservation plan to apply.

The defaults below are what archives commonly receive, rated as archival practice rates them
(archival formats low; widespread but proprietary or lossy ones medium; outdated or closed
ones high). No catalogue could be consulted where they were written (the KOST catalogue of
archival file formats, the LoC Recommended Formats Statement): every default therefore says
"default, unsourced" as its source rather than cite one. A tenant changes entries for its
own holdings; its changes are kept in its OCFL object."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .plans import PLANS  # noqa: F401 - the plan names an entry may name

RISKS = ("low", "medium", "high")
UNSOURCED = "default, unsourced"


@dataclass(frozen=True)
class FormatEntry:
    puid: str
    name: str
    version: str = ""
    risk: str = "medium"
    plan: str = ""  # the preservation plan to apply ("" none)
    note: str = ""
    source: str = UNSOURCED

    def as_dict(self) -> dict:
        return asdict(self)


def _e(puids: str, name: str, risk: str, plan: str = "", note: str = "",
       versions: str = "") -> list[FormatEntry]:  # fmt: skip
    vs = versions.split("|") if versions else [""] * len(puids.split())
    return [FormatEntry(p, name, v, risk, plan, note)
            for p, v in zip(puids.split(), vs, strict=True)]  # fmt: skip


DEFAULTS: dict[str, FormatEntry] = {
    e.puid: e
    for e in [
        *_e(
            "fmt/95 fmt/354 fmt/476 fmt/477 fmt/478 fmt/479 fmt/480 fmt/481",
            "PDF/A",
            "low",
            note="archival PDF",
            versions="1a|1b|2a|2b|2u|3a|3b|3u",
        ),
        *_e(
            "fmt/14 fmt/15 fmt/16 fmt/17 fmt/18 fmt/19 fmt/20 fmt/276 fmt/1129",
            "PDF",
            "medium",
            "pdf-to-pdfa",
            "fonts and colours may depend on the viewer",
            "1.0|1.1|1.2|1.3|1.4|1.5|1.6|1.7|2.0",
        ),
        *_e("fmt/353", "Tagged Image File Format (TIFF)", "low"),
        *_e("x-fmt/387 x-fmt/399", "Exchangeable Image File Format (uncompressed)", "low"),
        *_e(
            "fmt/11 fmt/12 fmt/13", "Portable Network Graphics (PNG)", "low", versions="1.0|1.1|1.2"
        ),
        *_e("x-fmt/392", "JPEG 2000 (JP2)", "low"),
        *_e("fmt/101", "Extensible Markup Language (XML)", "low"),
        *_e("x-fmt/111", "Plain text", "low"),
        *_e("x-fmt/18", "Comma-separated values (CSV)", "low"),
        *_e(
            "fmt/136 fmt/290 fmt/291 fmt/1756",
            "OpenDocument Text (ODT)",
            "low",
            versions="1.0|1.1|1.2|1.3",
        ),
        *_e(
            "fmt/137 fmt/294 fmt/295 fmt/1755",
            "OpenDocument Spreadsheet (ODS)",
            "low",
            versions="1.0|1.1|1.2|1.3",
        ),
        *_e(
            "fmt/138 fmt/292 fmt/293 fmt/1754",
            "OpenDocument Presentation (ODP)",
            "low",
            versions="1.0|1.1|1.2|1.3",
        ),
        *_e(
            "fmt/1 fmt/2 fmt/6 fmt/141 fmt/142 fmt/143 fmt/527 fmt/703 fmt/704 fmt/705 "
            "fmt/706 fmt/707 fmt/708 fmt/709 fmt/710 fmt/711",
            "Waveform Audio (WAVE)",
            "low",
            note="kept as it is",
        ),
        *_e("fmt/279", "FLAC", "low"),
        *_e("fmt/569", "Matroska", "low", note="with FFV1 video: the archival target"),
        *_e("fmt/278 fmt/950", "Internet Message Format (e-mail)", "low"),
        *_e("fmt/412", "Microsoft Word (DOCX)", "medium", "office-to-pdfa"),
        *_e("fmt/214", "Microsoft Excel (XLSX)", "medium"),
        *_e("fmt/215", "Microsoft PowerPoint (PPTX)", "medium"),
        *_e("fmt/40", "Microsoft Word 97-2003 (DOC)", "medium", "office-to-pdfa"),
        *_e(
            "fmt/45 fmt/50 fmt/52 fmt/53 fmt/355",
            "Rich Text Format (RTF)",
            "medium",
            "office-to-pdfa",
            versions="1.0-1.4|1.5-1.6|1.7|1.8|1.9",
        ),
        *_e(
            "fmt/41 fmt/42 fmt/43 fmt/44 x-fmt/398 fmt/645",
            "JPEG",
            "medium",
            note="lossy compression: kept, not migrated",
        ),
        *_e(
            "fmt/3 fmt/4",
            "Graphics Interchange Format (GIF)",
            "medium",
            "image-to-tiff",
            versions="87a|89a",
        ),
        *_e(
            "fmt/116 fmt/117 fmt/118 fmt/119 x-fmt/25 x-fmt/270",
            "Windows Bitmap (BMP)",
            "medium",
            "image-to-tiff",
        ),
        *_e("fmt/199", "MPEG-4", "medium", "video-to-ffv1"),
        *_e("fmt/96 fmt/99 fmt/100 fmt/471", "HTML", "medium"),
        *_e("x-fmt/263", "ZIP", "medium", note="a container: its contents decide"),
        *_e("fmt/61 fmt/59 fmt/62", "Microsoft Excel 97-2003 (XLS)", "high"),
        *_e("fmt/126", "Microsoft PowerPoint 97-2003 (PPT)", "high"),
        *_e("fmt/39 x-fmt/274", "Microsoft Word 6.0/95, Word for DOS", "high", "office-to-pdfa"),
        *_e("fmt/37 fmt/38", "Microsoft Word for Windows 1.0, 2.0", "high", "office-to-pdfa"),
        *_e("x-fmt/44 x-fmt/393 x-fmt/394", "WordPerfect", "high", "office-to-pdfa"),
        *_e("x-fmt/116", "Lotus 1-2-3", "high"),
        *_e(
            "x-fmt/430",
            "Microsoft Outlook message (MSG)",
            "high",
            note="closed format: convert to EML",
        ),
        *_e("x-fmt/384", "QuickTime", "high", "video-to-ffv1"),
        *_e("x-fmt/382 fmt/5", "Audio Video Interleaved (AVI)", "high", "video-to-ffv1"),
        *_e("fmt/392", "MrSID", "high"),
    ]
}


def entry(puid: str | None, overrides: dict[str, dict] | None = None) -> FormatEntry | None:
    """The register's entry for a PUID: the tenant's own where it changed one, else the
    default; None for a format the register does not know (not assessed)."""
    if not puid:
        return None
    base = DEFAULTS.get(puid)
    own = (overrides or {}).get(puid)
    if own is None:
        return base
    fields = {**(base.as_dict() if base else {"puid": puid, "name": own.get("name", "")}),
              **{k: v for k, v in own.items() if k in ("risk", "plan", "note")}}  # fmt: skip
    fields["source"] = own.get("source") or "tenant"
    return FormatEntry(**fields)
