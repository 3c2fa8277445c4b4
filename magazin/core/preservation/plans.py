"""Preservation plans as data: which formats (PUIDs) a plan takes, the tool that migrates
them, the target format, and the checks that prove a migration kept what matters."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

from ..programs import program_version


@dataclass(frozen=True)
class Plan:
    name: str
    sources: tuple[str, ...]  # PUIDs it migrates
    tool: str  # libreoffice | ghostscript | vips | ffmpeg
    target: str  # what comes out, as people name it
    target_puid: str
    target_mime: str
    suffix: str  # the result's file extension
    checks: tuple[str, ...] = field(default=("validate",))

    def as_dict(self) -> dict:
        return {"name": self.name, "from": list(self.sources), "tool": self.tool,
                "target": self.target, "checks": list(self.checks)}  # fmt: skip


_OFFICE = ("fmt/37", "fmt/38", "fmt/39", "fmt/40", "fmt/412", "fmt/45", "fmt/50", "fmt/52",
           "fmt/53", "fmt/355", "fmt/136", "fmt/290", "fmt/291", "fmt/1756", "x-fmt/274",
           "x-fmt/44", "x-fmt/393", "x-fmt/394")  # fmt: skip
_PDF = ("fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276",
        "fmt/1129")  # fmt: skip
_IMAGES = ("fmt/3", "fmt/4", "fmt/116", "fmt/117", "fmt/118", "fmt/119", "x-fmt/25",
           "x-fmt/270")  # fmt: skip
_VIDEO = ("fmt/199", "x-fmt/384", "x-fmt/382", "fmt/5")

PLANS: dict[str, Plan] = {
    p.name: p
    for p in (
        Plan("office-to-pdfa", _OFFICE, "libreoffice", "PDF/A-2b", "fmt/477", "application/pdf",
             ".pdf", ("validate", "words")),
        Plan("pdf-to-pdfa", _PDF, "ghostscript", "PDF/A-2b", "fmt/477", "application/pdf",
             ".pdf", ("validate", "words", "pages")),
        Plan("image-to-tiff", _IMAGES, "vips", "TIFF, LZW compression", "fmt/353",
             "image/tiff", ".tif", ("validate", "pixels")),
        Plan("video-to-ffv1", _VIDEO, "ffmpeg", "FFV1 video in Matroska", "fmt/569",
             "video/x-matroska", ".mkv", ("validate", "frames")),
    )
}  # fmt: skip

_COMMANDS = {"libreoffice": "soffice", "ghostscript": "gs", "vips": "vips", "ffmpeg": "ffmpeg"}
_NAMES = {"libreoffice": "LibreOffice", "ghostscript": "Ghostscript", "vips": "libvips",
          "ffmpeg": "ffmpeg"}  # fmt: skip
_VERSION_ARGS = {"soffice": ["--version"], "gs": ["--version"], "vips": ["--version"],
                 "ffmpeg": ["-version"]}  # fmt: skip


def available(plan: Plan) -> bool:
    """A plan whose tool is not installed reports "not available" and migrates nothing."""
    return shutil.which(_COMMANDS[plan.tool]) is not None


def tool_version(tool: str) -> str:
    """The tool and its version, as the migration event's agent names it."""
    cmd = _COMMANDS[tool]
    version = program_version(cmd, *_VERSION_ARGS[cmd])
    return f"{_NAMES[tool]} {version}" if version else _NAMES[tool]
