"""The checks that prove a migration kept what matters: the result validates; text: at least
98 % of the source's words are in the result's text; PDF → PDF/A: the same page count and
every page, rendered small, within a small difference of the source's page (a scan without
text is checked too); images: every pixel equal; video: the decoded frames equal (framemd5)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from ..i18n import N_
from ..text import extract_text, kind_of

WORDS_KEPT = 0.98
# the mean absolute difference of grey values, as a share of 255, that a page may show - in
# each cell of a GRID×GRID division of the page, so that a lost line of text is not averaged
# away by the white around it
PAGE_DIFFERENCE = 0.08
GRID = 12
RENDER_DPI = 40
_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> Counter:
    return Counter(w.lower() for w in _WORD.findall(text))


def _without_output_intents(pdf: Path, into: Path) -> Path:
    """The PDF itself, or - where its catalog names output intents, as every PDF/A does - a
    copy without them. Poppler builds a colour transform from the intent's ICC profile for
    every page it reads, which made `pdftotext` and `pdftoppm` 20-25× slower on PDF/A (about
    130 ms a page) while giving the same text and, for the grey renderings compared here, the
    same pixels."""
    import pikepdf

    try:
        with pikepdf.open(pdf) as doc:
            if "/OutputIntents" not in doc.Root:
                return pdf
            del doc.Root["/OutputIntents"]
            into.mkdir(parents=True, exist_ok=True)
            fd, copy = tempfile.mkstemp(suffix=".pdf", dir=into)
            os.close(fd)
            doc.save(copy)
            return Path(copy)
    except (pikepdf.PdfError, pikepdf.PasswordError):
        return pdf  # poppler reads it as it can; the validation has spoken about it


def _pdftotext(pdf: Path, work: Path) -> str:
    pdf = _without_output_intents(pdf, work / "text")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
    return out.stdout.decode("utf-8", "replace")


def words(
    source: Path, name: str, mime: str | None, puid: str | None, result: Path, work: Path
) -> str | None:
    """None if the result keeps the source's words, else why not. A document's words are
    those Magazin extracts for its search; a PDF's are read by pdftotext, as the result's
    are (it reads what a page shows: text outside the page is not counted on either side)."""
    kind = kind_of(name, mime, puid)
    if kind == "pdf":
        src = _words(_pdftotext(source, work))
    else:
        src = _words(extract_text(source, kind)) if kind else Counter()
    if not src:
        return None  # no text to keep (a scan): the page check speaks for it
    res = _words(_pdftotext(result, work))
    kept = sum(min(n, res[w]) for w, n in src.items()) / sum(src.values())
    if kept < WORDS_KEPT:
        return N_("only {pct:.1f} % of the source's words are in the result (at least 98 % "
                  "needed)").format(pct=100 * kept)  # fmt: skip
    return None


def _render(pdf: Path, into: Path) -> list[Path]:
    into.mkdir(parents=True, exist_ok=True)
    pdf = _without_output_intents(pdf, into / "pdf")
    subprocess.run(["pdftoppm", "-r", str(RENDER_DPI), "-gray", str(pdf), str(into / "p")],
                   capture_output=True, timeout=600, stdin=subprocess.DEVNULL)  # fmt: skip
    return sorted(into.glob("p*.pgm"))


def pages(source: Path, result: Path, work: Path) -> str | None:
    from PIL import Image, ImageChops

    a, b = _render(source, work / "src"), _render(result, work / "res")
    if len(a) != len(b):
        return N_("{a} page(s) in the source, {b} in the result").format(a=len(a), b=len(b))
    if not a:
        return N_("no page could be rendered")
    for n, (pa, pb) in enumerate(zip(a, b, strict=True), start=1):
        with Image.open(pa) as ia, Image.open(pb) as ib:
            if ia.size != ib.size:
                ib = ib.resize(ia.size)
            delta = ImageChops.difference(ia.convert("L"), ib.convert("L"))
        # each cell's mean difference: a box filter down to GRID×GRID averages exactly the
        # pixels (and parts of pixels) that fall into each cell
        worst = delta.convert("F").resize((GRID, GRID), Image.Resampling.BOX).getextrema()[1]
        if worst / 255 > PAGE_DIFFERENCE:
            return N_("page {n} differs from the source's ({pct:.1f} % in one part)").format(
                n=n, pct=100 * worst / 255)  # fmt: skip
    return None


def pixels(source: Path, result: Path) -> str | None:
    from PIL import Image, ImageChops

    with Image.open(source) as ia, Image.open(result) as ib:
        frames = 0
        while True:
            mode = "RGBA" if "A" in ia.mode or "transparency" in ia.info else "RGB"
            a, b = ia.convert(mode), ib.convert(mode)
            if a.size != b.size:
                return N_("size {a} in the source, {b} in the result").format(a=a.size, b=b.size)
            if ImageChops.difference(a, b).getbbox() is not None:
                return N_("pixels differ from the source's (frame {n})").format(n=frames + 1)
            frames += 1
            try:
                ia.seek(ia.tell() + 1)
            except EOFError:
                break
            try:
                ib.seek(ib.tell() + 1)
            except EOFError:
                return N_("the result has fewer frames than the source")
    return None


def _framemd5(path: Path) -> list[str]:
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v",
                          "-f", "framemd5", "-"], capture_output=True, timeout=3600,
                         stdin=subprocess.DEVNULL)  # fmt: skip
    return [ln.split(",")[-1].strip() for ln in out.stdout.decode().splitlines()
            if ln and not ln.startswith("#")]  # fmt: skip


def frames(source: Path, result: Path) -> str | None:
    a, b = _framemd5(source), _framemd5(result)
    if not a:
        return N_("no video frame could be decoded from the source")
    if a != b:
        return N_("the decoded frames differ ({a} in the source, {b} in the result)").format(
            a=len(a), b=len(b))  # fmt: skip
    return None
