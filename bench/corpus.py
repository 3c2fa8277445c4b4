"""Generate the scenario corpus: speech manuscripts as real PDF, DOCX, ODT and TXT files of
20-300 KB in nested folders, with a metadata table (CSV, Windows-1252, semicolons)."""

from __future__ import annotations

import io
import random
from pathlib import Path

WORDS = (
    "Bürgerinnen Bürger Stadt Magdeburg Rat Haushalt Zukunft Elbe Brücke Schule Kultur "
    "Verwaltung Jubiläum Dank Ehrenamt Wirtschaft Wissenschaft Universität Dom Hafen "
    "Geschichte Erinnerung Partnerschaft Europa Verantwortung Gemeinschaft Familie "
    "Sport Verkehr Wohnen Umwelt Klima Energie Sicherheit Feuerwehr Polizei Gesundheit "
    "Krankenhaus Kinder Jugend Senioren Integration Willkommen Festakt Empfang Neujahr "
    "Ehrenbürger Otto Guericke Halbkugeln Kaiser Dom Börde Sachsen-Anhalt Landtag"
).split()


def _text(rng: random.Random, n_words: int) -> str:
    out, line = [], []
    for _ in range(n_words):
        line.append(rng.choice(WORDS))
        if len(line) > 14:
            out.append(" ".join(line) + ".")
            line = []
    return "\n".join(out)


def _photo(rng: random.Random, nbytes: int) -> bytes:
    """A real PNG of noise (incompressible, like a photo) of about `nbytes`."""
    from PIL import Image

    side = max(8, int((nbytes / 3) ** 0.5))
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _pdf(text: str, rng: random.Random) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    y = 800
    for ln in text.split("\n"):
        c.drawString(40, y, ln[:110])
        y -= 14
        if y < 40:
            c.showPage()
            y = 800
    c.save()
    return buf.getvalue()


def _docx(text: str, rng: random.Random) -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Rede", 1)
    for para in text.split("\n"):
        d.add_paragraph(para)
    d.add_picture(io.BytesIO(_photo(rng, rng.randint(10_000, 200_000))))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _odt(text: str, rng: random.Random) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    doc = OpenDocumentText()
    for para in text.split("\n"):
        doc.text.addElement(P(text=para))
    doc.addPicture("Pictures/bild.png", "image/png", _photo(rng, rng.randint(10_000, 200_000)))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def make_corpus(root: Path, n: int = 2484, seed: int = 2014) -> tuple[Path, Path]:
    """Write `n` files under root/reden and the table root/reden.csv (reused if present)."""
    sip, table = root / "reden", root / "reden.csv"
    if table.exists() and sum(1 for p in sip.rglob("*") if p.is_file()) == n:
        return sip, table
    rng = random.Random(seed)
    rows = ["Datei;Titel;Datum;Redner;Anlass;Signatur"]
    for i in range(n):
        year = 2010 + i % 9
        kind = rng.choices(["pdf", "docx", "odt", "txt"], [35, 25, 20, 20])[0]
        target_kb = rng.randint(20, 300)
        if kind == "pdf":
            data = _pdf(_text(rng, target_kb * 95), rng)
        elif kind == "docx":
            data = _docx(_text(rng, target_kb * 20), rng)
        elif kind == "odt":
            data = _odt(_text(rng, target_kb * 15), rng)
        else:
            data = _text(rng, target_kb * 105).encode("utf-8")
        rel = f"{year}/{rng.choice(['Empfänge', 'Festakte', 'Ratssitzungen'])}/rede_{i:04d}.{kind}"
        p = sip / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        day, month = 1 + i % 28, 1 + i % 12
        rows.append(
            f"{rel};Rede {i} – {rng.choice(WORDS)};{day:02d}.{month:02d}.{year};"
            f"Dr. Lutz Trümper;{rng.choice(WORDS)};OB-{i}/{year}"
        )
    table.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    return sip, table
