"""Validation of every file by its format (issue 13, part 1): each validator accepts a sound
file and rejects a broken one made here; hostile files are time-boxed and memory-capped in the
pool; the ingest records a PREMIS validation event per file (tool and version as agent), the
catalog and `aip show` show it, `formats validation` lists what is not valid; the tenant's
`reject` sends a SIP with an invalid file to quarantine; `formats validate` makes a new
version only where a result changed; a rebuild keeps it all."""

from __future__ import annotations

import email.utils
import io
import json
import shutil
import subprocess
import wave
import zipfile
import zlib
from pathlib import Path

import pytest
from lxml import etree

from magazin.core.formats.validators import ValidatorPolicy, validate
from magazin.core.formats.validators.pool import ValidatorPool

from .conftest import storage_objects, write_tree

AV = shutil.which("ffmpeg") and shutil.which("mediaconch")
needs_av = pytest.mark.skipif(not AV, reason="ffmpeg/MediaConch not installed (scripts/tools.sh)")


def _truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def _one_byte_missing(data: bytes) -> bytes:
    """Damaged inside, head and tail intact (still identified as PDF: `%%EOF` at the end)."""
    return data[: len(data) // 2] + data[len(data) // 2 + 1 :]


def _two_pdfs() -> dict[str, bytes]:
    return {"rede.pdf": _pdf(), "kaputt.pdf": _one_byte_missing(_pdf())}


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Rede des Oberbürgermeisters zur Einweihung der Grünanlage")
    c.showPage()
    c.save()
    return buf.getvalue()


def _image(fmt: str, **opts) -> bytes:
    from PIL import Image

    im = Image.new("RGB", (120, 80))
    im.putdata([(x % 256, y * 3 % 256, (x * y) % 256) for y in range(80) for x in range(120)])
    buf = io.BytesIO()
    im.save(buf, fmt, **opts)
    return buf.getvalue()


def _odt() -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    doc = OpenDocumentText()
    doc.text.addElement(P(text="Rede zur Einweihung"))
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def _docx() -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph("Rede zur Einweihung")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, change) -> bytes:
    """The package with each part passed through change(name, bytes) -> bytes | None."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            new = change(info.filename, src.read(info))
            if new is not None:
                dst.writestr(info, new)
    return out.getvalue()


def _eml(date: bool = True) -> bytes:
    lines = [
        "From: Stadtverwaltung <post@example.org>",
        "To: archiv@example.org",
        "Subject: Rede",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if date:
        lines.insert(1, "Date: " + email.utils.formatdate(0))
    return ("\r\n".join(lines) + "\r\n\r\nText der Rede.\r\n").encode()


def _wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * 64)
    return buf.getvalue()


def _video(tmp: Path, name: str, *codec: str) -> bytes:
    out = tmp / name
    src = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-t", "1"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *src, *codec, str(out)], check=True)
    return out.read_bytes()


# (mime, a sound file, a broken one) per validator family
def _cases(tmp: Path) -> dict[str, tuple[str, bytes, bytes]]:
    pdf, odt, docx = _pdf(), _odt(), _docx()
    cases = {
        "pdf": ("application/pdf", pdf, _truncated(pdf)),
        "png": ("image/png", _image("PNG"), _truncated(_image("PNG"))),
        "jpeg": ("image/jpeg", _image("JPEG"), _truncated(_image("JPEG"))),
        "gif": ("image/gif", _image("GIF"), _truncated(_image("GIF"))),
        "tiff": ("image/tiff", _image("TIFF", compression="tiff_lzw"),
                 _truncated(_image("TIFF", compression="tiff_lzw"))),
        "jp2": ("image/jp2", _image("JPEG2000"), _truncated(_image("JPEG2000"))),
        "odt": ("application/vnd.oasis.opendocument.text", odt,
                _rezip(odt, lambda n, d: None if n == "META-INF/manifest.xml" else d)),
        "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx,
                 _rezip(docx, lambda n, d: d[:-40] if n == "word/document.xml" else d)),
        "xml": ("text/xml", b"<?xml version='1.0'?><rede><titel>Park</titel></rede>",
                b"<?xml version='1.0'?><rede><titel>Park</rede>"),
        "eml": ("message/rfc822", _eml(), _eml(date=False)),
        "text": ("text/plain", "Grünanlage\n".encode(), b"Gr\x00nanlage\n"),
    }  # fmt: skip
    if AV:
        mkv = _video(tmp, "v.mkv", "-c:v", "ffv1")
        mp4 = _video(tmp, "v.mp4", "-c:v", "mpeg4")
        cases["wav"] = ("audio/x-wav", _wav(), _truncated(_wav(), 0.5)[:-1])
        cases["mkv"] = ("video/x-matroska", mkv, _truncated(mkv, 0.66))
        cases["mp4"] = ("video/mp4", mp4, _truncated(mp4, 0.5))
    return cases


def test_every_validator_accepts_a_sound_file_and_rejects_a_broken_one(tmp_path):
    cases = _cases(tmp_path)
    with ValidatorPool(ValidatorPolicy(timeout_s=60, memory_mb=1024)) as pool:
        for name, (mime, good, bad) in cases.items():
            for kind, data in (("good", good), ("bad", bad)):
                p = tmp_path / f"{kind}-{name}"
                p.write_bytes(data)
                v = pool.validate(str(p), None, mime)
                want = "success" if kind == "good" else "failure"
                assert v.outcome == want, (name, kind, v)
                assert v.tool and v.tool[0].isalpha()
                if kind == "bad":
                    assert v.messages, (name, v)
                    assert str(p) not in " ".join(v.messages)  # the temporary path left out


@pytest.mark.skipif(not AV, reason="MediaConch and ffmpeg are not installed (scripts/tools.sh)")
def test_matroska_needs_a_video_or_an_audio_track(tmp_path):
    """The policy's `or`: a branch failing inside a passing `or` is no failure (a sound
    recording in Matroska has no video track), and when both fail the policy says which."""
    sound = tmp_path / "ton.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
                    "-c:a", "flac", str(sound)], check=True)  # fmt: skip
    with ValidatorPool(ValidatorPolicy(timeout_s=60, memory_mb=1024)) as pool:
        v = pool.validate(str(sound), None, "video/x-matroska")
        assert v.outcome == "success", v
        head = tmp_path / "kopf.mkv"  # the EBML header and segment start, before any track
        head.write_bytes(_video(tmp_path, "v.mkv", "-c:v", "ffv1")[:300])
        v = pool.validate(str(head), None, "video/x-matroska")
        assert v.outcome == "failure", v
        assert "policy rule failed: Has a video or audio track" in v.messages, v
        assert not any("Has an audio track" in m for m in v.messages), v


def _pdf_with_content(content: bytes) -> bytes:
    import pikepdf

    with pikepdf.open(io.BytesIO(_pdf())) as pdf:
        pdf.pages[0].obj.Contents = pdf.make_stream(content)
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


def test_a_damaged_page_content_or_a_damaged_copy_of_a_known_part_is_found(tmp_path):
    """The content streams are parsed (qpdf's tokenizer, no operator kept), and a part
    already found well-formed in another document does not vouch for a different one."""
    cases = {
        "unterminated string": _pdf_with_content(b"BT /F1 12 Tf 72 720 Td (Rede Tj ET"),
        "unbalanced dictionary": _pdf_with_content(b"BT << /A 1 Tf ET"),
    }
    for name, data in cases.items():
        p = tmp_path / "seite.pdf"
        p.write_bytes(data)
        v = validate(str(p), None, "application/pdf")
        assert v.outcome == "failure", (name, v)
        assert any("content" in m or "page 1" in m for m in v.messages), (name, v)
    p.write_bytes(_pdf_with_content(b"BT /F1 12 Tf 72 720 Td (Rede (mit Klammern)) Tj ET"))
    assert validate(str(p), None, "application/pdf").outcome == "success"

    docx = _docx()
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        styles = zf.read("word/styles.xml")
    assert len(styles) > 16 << 10  # large enough to be remembered as well-formed
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    good, bad = tmp_path / "gut.docx", tmp_path / "kaputt.docx"
    good.write_bytes(docx)
    damaged = styles.replace(b"</w:styles>", b"</w:stil>")
    bad.write_bytes(_rezip(docx, lambda n, d: damaged if n == "word/styles.xml" else d))
    assert validate(str(good), None, mime).outcome == "success"
    v = validate(str(bad), None, mime)
    assert v.outcome == "failure" and "word/styles.xml" in " ".join(v.messages), v


def test_pdfa_claim_is_checked_for_structure_and_never_called_valid_pdfa(tmp_path, fixtures):
    import pikepdf

    real = fixtures / "formats/format-corpus/pdfCabinetOfHorrors/text_only_pdfa1b.pdf"
    v = validate(str(real), "fmt/354", "application/pdf")
    assert v.outcome == "success" and "PDF/A-1b" in v.note
    assert "structure checks passed" in v.note and "not a full PDF/A validation" in v.note
    # a plain PDF that claims PDF/A-2b in its XMP: no output intent, a font not embedded
    p = tmp_path / "claim.pdf"
    p.write_bytes(_pdf())
    with pikepdf.open(p, allow_overwriting_input=True) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = "2"
            meta["pdfaid:conformance"] = "B"
        pdf.save(p)
    v = validate(str(p), "fmt/477", "application/pdf")
    assert v.outcome == "failure" and "PDF/A-2b claimed" in v.note
    assert any("output intent" in m for m in v.messages)
    assert any("Helvetica" in m and "not embedded" in m for m in v.messages)


# veraPDF's machine-readable report, as its documentation shows it (veraPDF itself cannot be
# installed here: not in Debian, not on PyPI): a stand-in command prints it, so that what
# Magazin makes of the report is tested - not veraPDF
_VERAPDF_REPORT = """<?xml version="1.0" encoding="utf-8"?>
<report><buildInformation>
  <releaseDetails id="core" version="1.28.2" buildDate="2025-07-15T16:07:00+03:00"/>
</buildInformation><jobs><job><item size="1"><name>$1</name></item>
  <validationReport jobEndStatus="normal" profileName="PDF/A-2B validation profile"
      statement="..." isCompliant="$COMPLIANT"><details passedRules="1" failedRules="1">
    <rule specification="ISO 19005-2:2011" clause="6.2.11.4.1" testNumber="1" status="failed"
        failedChecks="1"><description>The font programs for all fonts used for rendering
        within a conforming file shall be embedded</description></rule>
  </details></validationReport></job></jobs></report>"""


def test_a_configured_verapdf_decides_pdfa_by_its_report(tmp_path):
    cmd = tmp_path / "verapdf"
    cmd.write_text('#!/bin/sh\ncase "$3" in *gut*) COMPLIANT=true;; *) COMPLIANT=false;; esac\n'
                   f"cat <<EOF\n{_VERAPDF_REPORT}\nEOF\n")  # fmt: skip
    cmd.chmod(0o755)
    policy = ValidatorPolicy(verapdf=str(cmd))
    for name in ("gut.pdf", "schlecht.pdf"):
        p = tmp_path / name
        p.write_bytes(_pdf())
        _claim_pdfa(p, "2", "B")
    v = validate(str(tmp_path / "gut.pdf"), "fmt/477", "application/pdf", policy)
    assert v.outcome == "success" and v.tool == "veraPDF 1.28.2", v
    assert v.note == "valid PDF/A-2B validation profile (veraPDF)"
    v = validate(str(tmp_path / "schlecht.pdf"), "fmt/477", "application/pdf", policy)
    assert v.outcome == "failure" and "not valid" in v.note, v
    assert v.messages == ["6.2.11.4.1-1: The font programs for all fonts used for rendering "
                          "within a conforming file shall be embedded"]  # fmt: skip
    # a veraPDF that prints no report: not validated, and why
    cmd.write_text("#!/bin/sh\necho 'no Java' >&2; exit 7\n")
    v = validate(str(tmp_path / "gut.pdf"), "fmt/477", "application/pdf", policy)
    assert v.outcome == "warning" and "exit code 7" in v.note, v
    # a PDF without a PDF/A claim is not given to veraPDF
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(_pdf())
    assert validate(str(plain), None, "application/pdf", policy).tool.startswith("pikepdf")


def _claim_pdfa(path: Path, part: str, conformance: str) -> None:
    """The PDF at `path` made to claim PDF/A-<part><conformance> in its XMP."""
    import pikepdf

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["pdfaid:part"] = part
            meta["pdfaid:conformance"] = conformance
        pdf.save(path)


def test_xml_with_entity_declarations_is_refused_not_expanded(tmp_path):
    p = tmp_path / "lol.xml"
    p.write_text('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                 '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>')  # fmt: skip
    v = validate(str(p), "fmt/101", "text/xml")
    assert v.outcome == "failure" and "entit" in v.messages[0]


def _flate_bomb_pdf(path: Path, megabytes: int) -> None:
    """A one-page PDF whose content stream inflates to `megabytes` of zeros (qpdf's check
    reads it all)."""
    import pikepdf

    c = zlib.compressobj(9)
    zero = bytes(1 << 20)
    data = b"".join(c.compress(zero) for _ in range(megabytes)) + c.flush()
    pdf = pikepdf.new()
    pdf.add_blank_page()
    s = pikepdf.Stream(pdf, data)
    s.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = s
    pdf.save(path, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def _png_bomb(path: Path, side: int) -> None:
    """A small PNG of side×side RGB pixels, all zero: decoding it needs 3·side² bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))  # fmt: skip

    c = zlib.compressobj(1)
    row = bytes(1 + 3 * side)
    idat = b"".join(c.compress(row) for _ in range(side)) + c.flush()
    ihdr = side.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))  # fmt: skip


def test_hostile_files_are_time_boxed_and_memory_capped(tmp_path):
    slow = tmp_path / "bomb.pdf"
    _flate_bomb_pdf(slow, 400)
    big = tmp_path / "bomb.png"
    _png_bomb(big, 14000)  # 588 MB decoded, more than the 400 MB the workers may use
    ok = tmp_path / "ok.png"
    ok.write_bytes(_image("PNG"))
    with ValidatorPool(ValidatorPolicy(timeout_s=2, memory_mb=2048), workers=1) as pool:
        v = pool.validate(str(slow), None, "application/pdf")
        assert v.outcome == "warning" and "timed out" in v.note, v
        assert pool.replaced == 1  # the worker was killed and replaced
        assert pool.validate(str(ok), None, "image/png").outcome == "success"
    with ValidatorPool(ValidatorPolicy(timeout_s=60, memory_mb=400), workers=1) as pool:
        v = pool.validate(str(big), None, "image/png")
        assert v.outcome == "warning" and "not validated" in v.note, v
        # the pool goes on: the next file is validated by a worker as usual
        assert pool.validate(str(ok), None, "image/png").outcome == "success"
    truncated = tmp_path / "t.png"
    truncated.write_bytes(_truncated(big.read_bytes(), 0.5))
    with ValidatorPool(ValidatorPolicy(timeout_s=30, memory_mb=400), workers=1) as pool:
        assert pool.validate(str(truncated), None, "image/png").outcome in ("failure", "warning")


def _premis(obj: Path) -> etree._Element:
    inv = json.loads((obj / "inventory.json").read_text())
    head = inv["head"]
    return etree.parse(obj / head / "content/metadata/preservation/premis.xml").getroot()


P = "{http://www.loc.gov/premis/v3}"


def test_ingest_records_a_validation_event_per_file_and_the_catalog_shows_it(
    archive, home, tmp_path
):
    cli = archive
    sip = write_tree(tmp_path / "sip", {**_two_pdfs(), "notiz.txt": "Notiz",
                                        "daten.bin": b"\x01\x02"})  # fmt: skip
    aid = cli.json("ingest", sip)["aips"][0]["aid"]
    files = {f["path"]: f for f in cli.json("aip", "show", aid)["files"]}
    assert files["rede.pdf"]["validation"] == "success"
    assert files["kaputt.pdf"]["validation"] == "failure"
    assert files["kaputt.pdf"]["validation_note"]  # qpdf's message
    assert files["notiz.txt"]["validation"] == "success"
    assert files["daten.bin"]["validation"] == "warning"
    assert "not validated" in files["daten.bin"]["validation_note"]
    obj = next(p for p in storage_objects(home) if p.name.endswith(aid.rsplit("-", 1)[1]))
    premis = _premis(obj)
    events = [e for e in premis.iter(f"{P}event") if e.findtext(f"{P}eventType") == "validation"]
    assert len(events) == 4
    by_file = {}
    for e in events:
        linked = [lo.findtext(f"{P}linkingObjectIdentifierValue")
                  for lo in e.iter(f"{P}linkingObjectIdentifier")
                  if lo.findtext(f"{P}linkingObjectIdentifierType") == "local"]  # fmt: skip
        assert len(linked) == 1
        by_file[linked[0]] = e
    bad = by_file["representations/original/data/kaputt.pdf"]
    assert bad.findtext(f"{P}eventOutcomeInformation/{P}eventOutcome") == "failure"
    agent = bad.findtext(f"{P}linkingAgentIdentifier/{P}linkingAgentIdentifierValue")
    assert agent.startswith("pikepdf ")
    names = [a.findtext(f"{P}agentName") for a in premis.iter(f"{P}agent")]
    assert agent in names  # the tool and its version, as an agent of the AIP
    d = cli.json("formats", "validation", "--tenant", "stadt")
    assert d["totals"]["invalid"] == 1 and d["totals"]["not_validated"] == 1
    listed = {(f["aid"], f["path"], f["outcome"]) for f in d["not_valid"]}
    assert listed == {(aid, "kaputt.pdf", "failure"), (aid, "daten.bin", "warning")}
    pdf_row = next(r for r in d["formats"] if r["puid"] and r["format"] and "PDF" in r["format"])
    assert pdf_row["files"] == 2 and pdf_row["valid"] == 1 and pdf_row["invalid"] == 1
    # a rebuild from storage alone gives the same validation results
    assert cli.json("catalog", "rebuild")
    again = {f["path"]: f for f in cli.json("aip", "show", aid)["files"]}
    assert {p: (f["validation"], f["validation_note"]) for p, f in again.items()} == {
        p: (f["validation"], f["validation_note"]) for p, f in files.items()
    }


def test_a_tenant_that_rejects_invalid_files_quarantines_the_sip(archive, home, tmp_path):
    cli = archive
    r = cli.json("tenant", "set", "stadt", "--invalid-files", "reject")
    assert r["invalid_files"] == "reject" and r["changed"] == ["invalid_files"]
    before = {p.name for p in storage_objects(home)}
    sip = write_tree(tmp_path / "sip", _two_pdfs())
    code, out, err = cli("ingest", sip, "--json")
    assert code != 0
    d = json.loads(out)
    assert d["status"] == "rejected"
    assert [(p["path"], p["code"]) for p in d["errors"]] == [("kaputt.pdf", "invalid-file")]
    assert {p.name for p in storage_objects(home)} == before  # nothing stored
    assert cli.json("quarantine", "list")
    # the choice is kept in the tenant's object: a rebuild restores it
    cli.json("catalog", "rebuild")
    assert (
        next(t for t in cli.json("tenant", "list") if t["slug"] == "stadt")["invalid_files"]
        == "reject"
    )
    cli.json("tenant", "set", "stadt", "--invalid-files", "warn")
    assert cli.json("ingest", sip)["status"] == "stored"


def test_validating_stored_aips_again_changes_only_what_changed(archive, home, tmp_path):
    cli = archive
    toml = home.toml.read_text().replace("[validators]\n", "[validators]\nenabled = false\n")
    home.toml.write_text(toml)
    sip = write_tree(tmp_path / "sip", _two_pdfs())
    aid = cli.json("ingest", sip)["aips"][0]["aid"]
    assert {f["validation"] for f in cli.json("aip", "show", aid)["files"]} == {""}
    assert cli.json("formats", "validation")["totals"]["unchecked"] == 2
    obj = next(p for p in storage_objects(home) if p.name.endswith(aid.rsplit("-", 1)[1]))
    home.toml.write_text(toml.replace("enabled = false\n", ""))
    r = cli.json("formats", "validate", aid)
    assert r == {"aips": 1, "files": 2, "changed": 2, "versions": [aid], "invalid": 1}
    assert json.loads((obj / "inventory.json").read_text())["head"] == "v2"
    files = {f["path"]: f["validation"] for f in cli.json("aip", "show", aid)["files"]}
    assert files == {"rede.pdf": "success", "kaputt.pdf": "failure"}
    # nothing changed: no new version
    r = cli.json("formats", "validate", "--tenant", "stadt")
    assert r["changed"] == 0 and r["versions"] == []
    assert json.loads((obj / "inventory.json").read_text())["head"] == "v2"
    events = cli.json("aip", "show", aid)["events"]
    assert [e["type"] for e in events].count("validation") == 2


def test_the_attention_page_lists_invalid_files_and_risks(archive, home, tmp_path, client, db):
    from .conftest import PASSWORD, make_user

    cli = archive
    aid = cli.json("ingest", write_tree(tmp_path / "sip", _two_pdfs()))["aips"][0]["aid"]
    make_user(cli, "anna", "stadt", "archivist")
    make_user(cli, "rolf", "stadt", "reader")
    assert client.login(username="rolf", password=PASSWORD)
    assert client.get("/attention/").status_code in (403, 404)  # not for readers
    assert client.login(username="anna", password=PASSWORD)
    page = client.get("/attention/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "kaputt.pdf" in page and "rede.pdf" not in page and aid in page
    assert "ungültig" in page and "pdf-to-pdfa" in page and "mittel" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "Aufmerksamkeit" in title  # the page's title and only it
    unit = client.get(f"/aip/{aid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "gültig" in unit and "ungültig" in unit
