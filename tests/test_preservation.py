"""Preservation plans and their runs (issue 13, part 3), with the real tools: LibreOffice,
Ghostscript, libvips, ffmpeg. A migration is a new OCFL version with a complete new
representation beside the untouched original; its checks catch lost text, pages, pixels
and frames, and a failed check leaves the unit as it was; a run again migrates nothing."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from lxml import etree

from magazin.core.preservation import checks
from magazin.core.preservation.plans import PLANS

from .conftest import ocfl_root_validate, snapshot, storage_objects, write_tree
from .test_aip_standards import _schema

TOOLS = all(shutil.which(t) for t in ("soffice", "gs", "vips", "ffmpeg", "pdftotext", "pdftoppm"))
pytestmark = pytest.mark.skipif(not TOOLS, reason="preservation tools missing (scripts/tools.sh)")

TEXT = ("Rede des Oberbürgermeisters zur Einweihung der Grünanlage am Elbufer. Meine sehr "
        "geehrten Damen und Herren, heute übergeben wir den Park den Bürgerinnen und Bürgern "
        "dieser Stadt, die ihn seit vielen Jahren gewünscht haben. ")  # fmt: skip


def _docx(text: str = TEXT) -> bytes:
    import docx

    d = docx.Document()
    for _ in range(3):
        d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _odt(text: str = TEXT) -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    doc = OpenDocumentText()
    for _ in range(3):
        doc.text.addElement(P(text=text))
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def _pdf(pages: int = 2, text: str = TEXT) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for n in range(pages):
        for i, line in enumerate(textwrap.wrap(text, 80)):
            c.drawString(60, 760 - 16 * i, line)
        c.drawString(60, 60, f"Seite {n + 1}")
        c.rect(100, 200 + 40 * n, 200, 100, fill=1)
        c.showPage()
    c.save()
    return buf.getvalue()


def _gif() -> bytes:
    from PIL import Image

    im = Image.new("P", (64, 48))
    im.putpalette([v for i in range(256) for v in (i, 255 - i, (i * 7) % 256)])
    im.putdata([(x * y) % 256 for y in range(48) for x in range(64)])
    buf = io.BytesIO()
    im.save(buf, "GIF")
    return buf.getvalue()


def _mp4(tmp: Path) -> bytes:
    out = tmp / "film.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=64x48:rate=5", "-t", "1", "-c:v", "mpeg4", str(out)],
                   check=True)  # fmt: skip
    return out.read_bytes()


def _head(obj: Path) -> tuple[dict, Path]:
    inv = json.loads((obj / "inventory.json").read_text())
    return inv, obj / inv["head"] / "content"


def test_plans_are_listed_as_data(cli):
    plans = {p["name"]: p for p in cli.json("preserve", "plans")}
    assert set(plans) == set(PLANS)
    assert plans["office-to-pdfa"]["tool"] == "libreoffice"
    assert "fmt/412" in plans["office-to-pdfa"]["from"]
    assert plans["office-to-pdfa"]["target"] == "PDF/A-2b"
    assert all(p["available"] for p in plans.values())


def test_office_documents_become_pdfa_beside_the_untouched_original(
    archive, home, tmp_path, fixtures, transactional_db
):
    cli = archive
    sip = write_tree(tmp_path / "sip", {"rede.docx": _docx(), "grusswort.odt": _odt(),
                                        "notiz.txt": "bleibt wie sie ist"})  # fmt: skip
    aid = cli.json("ingest", sip)["aips"][0]["aid"]
    objs = [p for p in storage_objects(home) if p.name.endswith(aid.rsplit("-", 1)[1])]
    v1 = {str(o): snapshot(o / "v1") for o in objs}
    assert cli.json("preserve", "run", "office-to-pdfa", "--aid", aid, "--dry-run") == {
        "plan": "office-to-pdfa",
        "units": 1,
        "migrated": 1,
        "skipped": 0,
        "failed": [],
    }
    r = cli.json("preserve", "run", "office-to-pdfa", "--tenant", "stadt", "--jobs", "2")
    assert r == {"plan": "office-to-pdfa", "units": 1, "migrated": 1, "skipped": 0, "failed": []}
    for o in objs:
        assert snapshot(o / "v1") == v1[str(o)]  # the original version is untouched
        inv, head = _head(o)
        assert inv["head"] == "v2"
        state = {p for ps in inv["versions"]["v2"]["state"].values() for p in ps}
        assert {"representations/original/data/rede.docx",
                "representations/preservation-1/data/rede.pdf",
                "representations/preservation-1/data/grusswort.pdf",
                "representations/preservation-1/data/notiz.txt"} <= state  # fmt: skip
        # the text file is carried over: its bytes are held once
        manifest = [p for ps in inv["manifest"].values() for p in ps]
        assert not any(p.startswith("v2/") and p.endswith("notiz.txt") for p in manifest)
        mets = etree.parse(str(head / "METS.xml"))
        assert mets.xpath("//*[local-name()='fileGrp'][@USE='representations/preservation-1']")
        premis = etree.parse(str(head / "metadata/preservation/premis.xml"))
        assert _schema(fixtures, "premis-v3-0.xsd").validate(premis)
        assert _schema(fixtures, "mets.xsd").validate(mets)
        text = etree.tostring(premis, encoding="unicode")
        assert ">migration<" in text and "LibreOffice" in text and ">derivation<" in text
    for loc in home.locations:
        out = ocfl_root_validate(loc.path / "roots" / "stadt")
        assert "is VALID" in out and "WARN" not in out.upper(), out
    files = {(f["representation"], f["path"]): f for f in cli.json("aip", "show", aid)["files"]}
    pdf = files[("preservation-1", "rede.pdf")]
    assert pdf["mime"] == "application/pdf" and pdf["validation"] == "success"
    assert "PDF/A-2b" in pdf["validation_note"]
    assert files[("preservation-1", "notiz.txt")]["validation"] == "success"  # carried over
    # the search's format facet counts the new format (Unit.formats follows the files)
    from magazin.catalog.models import Unit

    formats = Unit.objects.get(aid=aid).formats.split()
    assert pdf["puid"] and pdf["puid"] in formats and len(formats) >= 3, formats
    # run again: nothing to do
    again = cli.json("preserve", "run", "office-to-pdfa", "--tenant", "stadt")
    assert again["migrated"] == 0 and again["skipped"] == 1
    assert _head(objs[0])[0]["head"] == "v2"
    # a rebuild from storage alone gives the same representations
    cli.json("catalog", "rebuild")
    assert {(f["representation"], f["path"]) for f in cli.json("aip", "show", aid)["files"]} == (
        set(files)
    )
    assert Unit.objects.get(aid=aid).formats.split() == formats


@pytest.mark.once  # the conversions: the same on both databases
def test_a_failed_check_leaves_the_unit_unchanged_and_is_reported(
    archive, home, tmp_path, monkeypatch
):
    cli = archive
    aid = cli.json("ingest", write_tree(tmp_path / "sip", {"rede.docx": _docx()}))["aips"][0][
        "aid"]  # fmt: skip
    other = tmp_path / "other.docx"
    other.write_bytes(_docx("Ein ganz anderer Text, der mit der Rede nichts zu tun hat."))
    import magazin.core.preservation.migrate as mig

    real = mig.convert

    def loses_text(plan, source, work, profile, timeout=600):  # converts another document
        return real(plan, other, work, profile, timeout)

    monkeypatch.setattr(mig, "convert", loses_text)
    obj = next(p for p in storage_objects(home) if p.name.endswith(aid.rsplit("-", 1)[1]))
    code, out, _err = cli("preserve", "run", "office-to-pdfa", "--aid", aid, "--json")
    assert code == 1
    d = json.loads(out)
    assert d["migrated"] == 0 and len(d["failed"]) == 1
    assert d["failed"][0]["path"] == "rede.docx" and "words" in d["failed"][0]["reason"]
    assert _head(obj)[0]["head"] == "v1"
    assert {f["representation"] for f in cli.json("aip", "show", aid)["files"]} == {"original"}


@pytest.mark.once  # the conversions: the same on both databases
def test_pdf_becomes_pdfa_with_the_same_pages(archive, home, tmp_path):
    cli = archive
    aid = cli.json("ingest", write_tree(tmp_path / "sip", {"rede.pdf": _pdf()}))["aips"][0]["aid"]
    r = cli.json("preserve", "run", "pdf-to-pdfa", "--aid", aid)
    assert r["migrated"] == 1, r
    f = next(f for f in cli.json("aip", "show", aid)["files"]
             if f["representation"] == "preservation-1")  # fmt: skip
    assert f["path"] == "rede.pdf" and f["validation"] == "success"
    assert "PDF/A-2b claimed" in f["validation_note"]


@pytest.mark.once  # the conversions: the same on both databases
def test_images_and_video_keep_every_pixel_and_frame(archive, home, tmp_path):
    cli = archive
    sip = write_tree(tmp_path / "sip", {"plan.gif": _gif(), "film.mp4": _mp4(tmp_path)})
    aid = cli.json("ingest", sip)["aips"][0]["aid"]
    assert cli.json("preserve", "run", "image-to-tiff", "--aid", aid)["migrated"] == 1
    assert cli.json("preserve", "run", "video-to-ffv1", "--aid", aid)["migrated"] == 1
    files = {(f["representation"], f["path"]): f for f in cli.json("aip", "show", aid)["files"]}
    assert files[("preservation-1", "plan.tif")]["puid"] == "fmt/353"
    assert files[("preservation-2", "plan.tif")]["validation"] == "success"
    assert files[("preservation-2", "film.mkv")]["mime"] == "video/x-matroska"
    assert files[("preservation-2", "film.mkv")]["validation"] == "success"


def _session_alive(pid: int) -> bool:
    import os

    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _is_pdfa_2b(pdf: Path) -> bool:
    from magazin.core.formats.validators import validate

    v = validate(str(pdf), "fmt/477", "application/pdf")
    return v.outcome == "success" and "PDF/A-2b" in v.note


@pytest.mark.once  # the conversions: the same on both databases
def test_libreoffice_stays_running_and_a_conversion_over_its_time_is_killed(tmp_path):
    from magazin.core.preservation import convert as conv

    if conv.uno_python() is None:
        pytest.skip("LibreOffice's Python bridge (python3-uno) missing (scripts/tools.sh)")
    plan, profile = PLANS["office-to-pdfa"], tmp_path / "profile"
    src = tmp_path / "rede.docx"
    src.write_bytes(_docx())
    try:
        first = conv.convert(plan, src, tmp_path / "a", profile)
        office = conv._OFFICES[profile.absolute()]
        pid = office.proc.pid
        second = conv.convert(plan, src, tmp_path / "b", profile)
        assert office.proc.pid == pid  # the same LibreOffice converted both
        with pytest.raises(conv.ConversionFailed, match="timed out"):
            conv.convert(plan, src, tmp_path / "c", profile, timeout=0.01)
        assert office.proc is None and not _session_alive(pid)  # killed, LibreOffice too
        third = conv.convert(plan, src, tmp_path / "d", profile)  # a new one started
        assert office.proc.pid != pid
        for pdf in (first, second, third):
            assert _is_pdfa_2b(pdf)
            assert checks.words(src, "rede.docx", None, "fmt/412", pdf, tmp_path / "w") is None
    finally:
        conv.stop_offices([profile])
    assert profile.absolute() not in conv._OFFICES and not _session_alive(pid)


@pytest.mark.once  # the conversions: the same on both databases
def test_without_the_python_bridge_each_file_gets_a_libreoffice_of_its_own(tmp_path):
    from magazin.core.preservation import convert as conv

    src = tmp_path / "rede.odt"
    src.write_bytes(_odt())
    out = tmp_path / "w" / "result.pdf"
    out.parent.mkdir()
    conv._office_command(src, out, tmp_path / "profile", 300)
    assert _is_pdfa_2b(out)
    assert checks.words(src, "rede.odt", None, "fmt/291", out, tmp_path / "w") is None


OLD_DOCUMENTS = {  # real files of the format corpus in shared/fixtures: (PUID, a word in it)
    "office-examples/Old_Word_file/NEWSSLID.DOC": ("fmt/38", "rusbridge"),
    "office/wordprocessing/rtf/testRTF.rtf": ("fmt/45", "sjaantje"),
    "variations/variations/application/rtf/lorem-ipsum.rtf": ("fmt/355", "ipsius"),
    "office/wordprocessing/WordPerfect6/testWordPerfect_6_61.wpd": ("x-fmt/44", "sjaantje"),
}


@pytest.mark.once  # the conversions: the same on both databases
def test_word_rtf_and_wordperfect_documents_become_pdfa_with_their_words(
    archive, home, tmp_path, fixtures
):
    from magazin.core.text import extract_text, kind_of

    if not (shutil.which("antiword") and shutil.which("wpd2text")):
        pytest.skip("antiword / wpd2text missing (scripts/tools.sh)")
    corpus = fixtures / "formats" / "format-corpus"
    sip = tmp_path / "sip"
    sip.mkdir()
    for rel, (puid, word) in OLD_DOCUMENTS.items():
        src = corpus / rel
        assert puid in PLANS["office-to-pdfa"].sources
        # their words are read (by Magazin's search extraction), so the check has them
        assert word in extract_text(src, kind_of(src.name, None, puid)).lower()
        shutil.copy(src, sip / src.name)
    cli = archive
    aid = cli.json("ingest", sip)["aips"][0]["aid"]
    assert {f["puid"] for f in cli.json("aip", "show", aid)["files"]} == {
        puid for puid, _ in OLD_DOCUMENTS.values()}  # fmt: skip
    r = cli.json("preserve", "run", "office-to-pdfa", "--aid", aid)
    assert r["migrated"] == 1 and not r["failed"], r
    new = {f["path"]: f for f in cli.json("aip", "show", aid)["files"]
           if f["representation"] == "preservation-1"}  # fmt: skip
    assert set(new) == {"NEWSSLID.pdf", "testRTF.pdf", "lorem-ipsum.pdf",
                        "testWordPerfect_6_61.pdf"}  # fmt: skip
    assert all("PDF/A-2b" in f["validation_note"] for f in new.values())
    # the words check reads these formats: a result holding another document's text fails
    other = tmp_path / "other.pdf"
    other.write_bytes(_pdf(1))
    doc = corpus / "office-examples/Old_Word_file/NEWSSLID.DOC"
    assert "words" in checks.words(doc, doc.name, None, "fmt/38", other, tmp_path / "w")


def _with_output_intent(pdf: Path) -> None:
    """Give a PDF the sRGB output intent that every PDF/A carries."""
    import pikepdf
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        profile = doc.make_stream(icc, N=3)
        doc.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
            OutputConditionIdentifier="sRGB", DestOutputProfile=profile)])  # fmt: skip
        doc.save(pdf)


def test_the_checks_read_pdfa_without_its_output_intent_and_leave_it_untouched(tmp_path):
    """Poppler reads a PDF with output intents ~20x slower (a colour transform per page): the
    checks read a copy without them - and still see every word and page."""
    import pikepdf

    src = tmp_path / "rede.docx"
    src.write_bytes(_docx())
    full, half = tmp_path / "full.pdf", tmp_path / "half.pdf"
    full.write_bytes(_pdf(2, TEXT * 3))
    half.write_bytes(_pdf(2, TEXT[: len(TEXT) // 2]))
    for pdf in (full, half):
        _with_output_intent(pdf)
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert checks.words(src, "rede.docx", mime, "fmt/412", full, tmp_path / "w") is None
    assert "words" in checks.words(src, "rede.docx", mime, "fmt/412", half, tmp_path / "w")
    copies = list((tmp_path / "w" / "text").glob("*.pdf"))
    assert len(copies) == 2
    for copy in copies:
        with pikepdf.open(copy) as doc:
            assert "/OutputIntents" not in doc.Root and len(doc.pages) == 2
    with pikepdf.open(full) as doc:
        assert "/OutputIntents" in doc.Root  # the result itself is what gets stored
    assert checks.pages(full, full, tmp_path / "r") is None
    assert "differs" in checks.pages(full, half, tmp_path / "r2")


def test_the_checks_catch_lost_text_pages_pixels_and_frames(tmp_path):
    from PIL import Image

    src = tmp_path / "rede.docx"
    src.write_bytes(_docx())
    full, half = tmp_path / "full.pdf", tmp_path / "half.pdf"
    full.write_bytes(_pdf(1, TEXT * 3))
    half.write_bytes(_pdf(1, TEXT[: len(TEXT) // 2]))
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert checks.words(src, "rede.docx", mime, "fmt/412", full, tmp_path / "w") is None
    assert "words" in checks.words(src, "rede.docx", mime, "fmt/412", half, tmp_path / "w")
    two, one = tmp_path / "two.pdf", tmp_path / "one.pdf"
    two.write_bytes(_pdf(2))
    one.write_bytes(_pdf(1))
    assert checks.pages(two, two, tmp_path / "r1") is None
    assert "page" in checks.pages(two, one, tmp_path / "r2")
    blank = tmp_path / "blank.pdf"
    blank.write_bytes(_pdf(2, ""))  # the same pages without their text: they look different
    assert "differs" in checks.pages(two, blank, tmp_path / "r3")
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    im = Image.new("RGB", (20, 20), (10, 20, 30))
    im.save(a)
    im.putpixel((7, 7), (10, 20, 31))
    im.save(b)
    assert checks.pixels(a, a) is None
    assert "pixels differ" in checks.pixels(a, b)
    f1 = tmp_path / "f1.mp4"
    f1.write_bytes(_mp4(tmp_path))
    f2 = tmp_path / "f2.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(f1), "-vf", "hflip", "-c:v",
                    "ffv1", str(f2)], check=True)  # fmt: skip
    assert checks.frames(f1, f1) is None
    assert "frames differ" in checks.frames(f1, f2)


def test_readers_get_the_newest_preservation_representation(archive, home, tmp_path, client):
    import zipfile

    from .conftest import PASSWORD, make_user

    cli = archive
    aid = cli.json("ingest", write_tree(tmp_path / "sip", {"rede.docx": _docx()}))["aips"][0][
        "aid"]  # fmt: skip
    cli.json("access", "release", aid, "--reason", "Freigabe für die Nutzung")
    assert cli.json("preserve", "run", "office-to-pdfa", "--aid", aid)["migrated"] == 1
    make_user(cli, "rolf", "stadt", "reader")
    staff = make_user(cli, "anna", "stadt", "archivist")
    assert client.login(username="rolf", password=PASSWORD)
    page = client.get(f"/aip/{aid}/").content.decode()
    assert "rede.pdf" in page and "rede.docx" not in page  # a DOCX reads as PDF/A
    r = client.get(f"/aip/{aid}/files/rede.pdf")
    assert r.status_code == 200 and b"".join(r.streaming_content)[:5] == b"%PDF-"
    assert client.get(f"/aip/{aid}/files/rede.docx").status_code == 404
    assert client.get(f"/aip/{aid}/?representation=original").status_code == 404
    dip = b"".join(client.get(f"/aip/{aid}/dip").streaming_content)
    with zipfile.ZipFile(io.BytesIO(dip)) as z:
        names = z.namelist()
        mets = etree.fromstring(z.read("METS.xml"))
    assert "representations/preservation-1/data/rede.pdf" in names
    assert not any(n.startswith("representations/original/") for n in names)
    ns = {"m": "http://www.loc.gov/METS/"}
    assert mets.xpath("//m:metsHdr/m:altRecordID[@TYPE='DIP representation']/text()",
                      namespaces=ns) == ["preservation-1"]  # fmt: skip
    assert [g.get("USE") for g in mets.xpath("//m:fileGrp", namespaces=ns)] == [
        "representations/preservation-1"
    ]
    # staff choose any representation, on the page and through the API
    assert client.login(username="anna", password=PASSWORD)
    page = client.get(f"/aip/{aid}/?representation=original").content.decode()
    assert "rede.docx" in page and "preservation-1" in page
    api = client.get(f"/api/units/{aid}/?representation=original",
                     HTTP_AUTHORIZATION=f"Token {staff['token']}").json()  # fmt: skip
    assert api["representation"] == "original"
    assert [f["path"] for f in api["files"]] == ["rede.docx"]
    assert api["representations"] == ["original", "preservation-1"]
    r = client.get(f"/api/units/{aid}/files/rede.docx?representation=original",
                   HTTP_AUTHORIZATION=f"Token {staff['token']}")  # fmt: skip
    assert r.status_code == 200


@pytest.mark.once  # the conversions: the same on both databases
def test_a_plan_started_on_the_web_runs_as_a_background_job(archive, home, tmp_path, client):
    from magazin.ingest.jobs import run_pending

    from .conftest import PASSWORD, make_user

    cli = archive
    aid = cli.json("ingest", write_tree(tmp_path / "sip", {"plan.gif": _gif()}))["aips"][0]["aid"]
    staff = make_user(cli, "anna", "stadt", "archivist")
    assert client.login(username="anna", password=PASSWORD)
    page = client.get("/attention/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "image-to-tiff" in page and "Erhaltungsplan" in page
    r = client.post("/attention/", {"plan": "image-to-tiff", "fonds": "OB-Reden"})
    assert r.status_code == 302 and "/ingest/jobs/" in r["Location"]
    jid = r["Location"].rstrip("/").rsplit("/", 1)[-1]
    run_pending()
    job = client.get(f"/api/jobs/{jid}/", HTTP_AUTHORIZATION=f"Token {staff['token']}").json()
    assert job["state"] == "done" and job["kind"] == "preserve"
    assert job["plan"] == "image-to-tiff" and job["migrated"] == 1 and job["failed"] == []
    page = client.get(f"/ingest/jobs/{jid}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "image-to-tiff" in page
    files = {(f["representation"], f["path"]) for f in cli.json("aip", "show", aid)["files"]}
    assert ("preservation-1", "plan.tif") in files
    # an unknown plan is refused at once, nothing queued
    r = client.post("/attention/", {"plan": "magic"}, follow=True)
    assert "magic" in r.content.decode()
