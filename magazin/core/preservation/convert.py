"""Running a plan's tool on one file: each run time-boxed, in a session of its own (killed
with everything it started when it runs over), writing only into a folder of its own.
LibreOffice gets a profile folder per worker, so that several can run at once."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
from pathlib import Path

from .plans import Plan

TIMEOUT_S = 600


class ConversionFailed(Exception):
    """The tool did not produce a result (its message says why)."""


def _run(cmd: list[str], timeout: float, cwd: Path | None = None, env=None) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                            start_new_session=True)  # fmt: skip
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise ConversionFailed(f"{cmd[0]}: timed out after {timeout:g} s") from None
    if proc.returncode != 0:
        msg = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ConversionFailed(f"{cmd[0]} ended with {proc.returncode}: " + " ".join(msg))


ICC = "/usr/share/color/icc/ghostscript/default_rgb.icc"  # Debian's ghostscript


def _pdfa_def(work: Path) -> Path:
    """Ghostscript's PDFA_def.ps with an sRGB output profile that exists on this machine."""
    src = sorted(glob.glob("/usr/share/ghostscript/*/lib/PDFA_def.ps"))
    if not Path(ICC).is_file() or not src:
        raise ConversionFailed("ghostscript: PDFA_def.ps or its sRGB profile not found")
    text = Path(src[-1]).read_text("latin-1").replace("(srgb.icc)", f"({ICC})")
    out = work / "PDFA_def.ps"
    out.write_text(text, "latin-1")
    return out


def convert(plan: Plan, source: Path, work: Path, profile: Path,
            timeout: float = TIMEOUT_S) -> Path:  # fmt: skip
    """Migrate `source` into the empty folder `work`; returns the result's path."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / ("result" + plan.suffix)
    if plan.tool == "libreoffice":
        env = {**os.environ, "HOME": str(profile)}
        filt = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
        inp = work / ("source" + source.suffix.lower())
        os.link(source, inp) if source.stat().st_dev == work.stat().st_dev else inp.write_bytes(
            source.read_bytes())  # fmt: skip
        _run(["soffice", f"-env:UserInstallation={profile.absolute().as_uri()}", "--headless",
              "--norestore", "--convert-to", filt, "--outdir", str(work / "out"), str(inp)],
             timeout, env=env)  # fmt: skip
        produced = work / "out" / "source.pdf"
        if not produced.is_file():
            raise ConversionFailed("LibreOffice produced no PDF")
        produced.rename(out)
    elif plan.tool == "ghostscript":
        _run(["gs", "-q", "-dPDFA=2", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-dNOOUTERSAVE",
              f"--permit-file-read={ICC}", "-sColorConversionStrategy=RGB",
              "-sDEVICE=pdfwrite", "-dPDFACompatibilityPolicy=1", f"-sOutputFile={out}",
              str(_pdfa_def(work)), str(source)], timeout)  # fmt: skip
    elif plan.tool == "vips":
        # every page of a multi-frame GIF or TIFF ([n=-1]); other loaders ignore no option
        pages = "[n=-1]" if source.read_bytes()[:3] == b"GIF" else ""
        _run(["vips", "copy", f"{source}{pages}", f"{out}[compression=lzw]"], timeout)
    elif plan.tool == "ffmpeg":
        _run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", "0",
              "-c:v", "ffv1", "-level", "3", "-g", "1", "-slicecrc", "1", "-c:a", "flac",
              "-c:s", "copy", str(out)], timeout)  # fmt: skip
    else:
        raise ConversionFailed(f"unknown tool {plan.tool}")
    if not out.is_file() or out.stat().st_size == 0:
        raise ConversionFailed(f"{plan.tool} produced no result")
    return out
