"""PRONOM identification: the engine against DROID's and siegfried's skeleton suites (made
here from the signatures), against fido and siegfried on real files, on crafted signature files
(priorities, extensions, containers), bounded reads, the cache and the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from magazin.core.formats import pattern as P
from magazin.core.formats.identify import FidoIdentifier, PronomIdentifier
from magazin.core.formats.library import fido_signature_files, load_signature_set
from magazin.core.formats.signatures import SignatureFileError

from .cfb import write_cfb
from .skeletons import container_skeleton, skeleton

V122 = "DROID_SignatureFile_V122.xml"
C2026 = "container-signature-20260119.xml"


@pytest.fixture(scope="module")
def v122():
    from .conftest import shared_fixtures

    f = shared_fixtures()
    if f is None:
        pytest.skip("../shared/fixtures not present (set MAGAZIN_FIXTURES to its path)")
    return PronomIdentifier(f / "pronom" / V122, f / "pronom" / C2026)


@pytest.fixture(scope="module")
def v109():
    return PronomIdentifier(*fido_signature_files())


# -- byte patterns ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,good,bad",
    [
        ("4D5A", [b"MZ"], [b"MY"]),
        ("[30:37][!00]", [b"0a", b"7\xff"], [b"8a", b"0\x00"]),
        ("[!&01]00", [b"\x02\x00"], [b"\x03\x00"]),
        ("[&81]", [b"\x81", b"\xff"], [b"\x80"]),
        ("[~81]", [b"\x01", b"\x80"], [b"\x00", b"\x7e"]),
        ("[0000:1000]", [b"\x00\x00", b"\x0f\xff", b"\x10\x00"], [b"\x10\x01", b"\xff\x00"]),
        ("[!0000]", [b"\x00\x01"], [b"\x00\x00"]),
        (
            "10 00 'Word.Document.' ['6'-'7'] 00",
            [b"\x10\x00Word.Document.7\x00"],
            [b"\x10\x00Word.Document.8\x00"],
        ),
        ("(0A|0D0A)'x'", [b"\nx", b"\r\nx"], [b"\rx"]),
        ("'a'{2-3}'b'??'c'", [b"a12b3c", b"a123b4c"], [b"a1b2c", b"a1234b5c"]),
        ("'a'*'b'", [b"ab", b"a" + b"\x00" * 1000 + b"b"], [b"ba"]),
        ("'a b'", [b"a b"], [b"ab"]),
    ],
)
def test_patterns_match_what_pronom_means(text, good, bad):
    import re

    els = P.parse(text)
    rx = re.compile(P.regex(els) + rb"\Z", re.S)
    for g in good:
        assert rx.match(g), (text, g)
    for b in bad:
        assert not rx.match(b), (text, b)
    assert rx.match(P.example(els))
    rev = re.compile(P.regex(P.reverse(els)) + rb"\Z", re.S)
    assert all(rev.match(g[::-1]) for g in good)


@pytest.mark.parametrize("text", ["4D5", "[30:", "(41|42", "'abc", "ZZ", "41)"])
def test_malformed_patterns_are_refused(text):
    with pytest.raises(P.PatternError):
        P.parse(text)


def test_patterns_have_no_unbounded_nested_repetition():
    """Every gap but an explicit `*` is bounded, and no repetition nests another."""
    src = P.regex(P.parse("'a'{0-100}('b'{1-5}'c'|'d')*'e'"))
    assert b"{0,100}?" in src and src.count(b"*") == 1
    assert b")*" not in src and b")+" not in src and b"}+" not in src


# -- crafted signature files --------------------------------------------------------------


def droid_file(tmp_path: Path, formats: list[dict], sigs: dict[str, str], name="DROID.xml") -> Path:
    """A small DROID signature file: sigs maps ID -> BOF sequence (hex, at offset 0)."""
    ns = "http://www.nationalarchives.gov.uk/pronom/SignatureFile"
    out = [f'<?xml version="1.0"?><FFSignatureFile xmlns="{ns}" Version="7" DateCreated="x">']
    out.append("<InternalSignatureCollection>")
    for sid, seq in sigs.items():
        out.append(
            f'<InternalSignature ID="{sid}"><ByteSequence Reference="BOFoffset">'
            f'<SubSequence Position="1" SubSeqMinOffset="0" SubSeqMaxOffset="0">'
            f"<Sequence>{seq}</Sequence></SubSequence></ByteSequence></InternalSignature>"
        )
    out.append("</InternalSignatureCollection><FileFormatCollection>")
    for f in formats:
        out.append(
            f'<FileFormat ID="{f["id"]}" PUID="{f["puid"]}" Name="{f.get("name", f["puid"])}" '
            f'MIMEType="{f.get("mime", "")}">'
            + "".join(f"<InternalSignatureID>{s}</InternalSignatureID>" for s in f.get("sigs", []))
            + "".join(f"<Extension>{e}</Extension>" for e in f.get("ext", []))
            + "".join(
                f"<HasPriorityOverFileFormatID>{p}</HasPriorityOverFileFormatID>"
                for p in f.get("over", [])
            )
            + "</FileFormat>"
        )
    out.append("</FileFormatCollection></FFSignatureFile>")
    p = tmp_path / name
    p.write_text("".join(out))
    return p


@pytest.fixture
def crafted(tmp_path):
    formats = [
        {"id": "1", "puid": "t/1", "sigs": ["1"], "ext": ["aa"], "mime": "a/a"},
        {"id": "2", "puid": "t/2", "sigs": ["2"], "over": ["1"]},  # ABCD beats AB
        {"id": "3", "puid": "t/3", "sigs": ["3"]},
        {"id": "4", "puid": "t/4", "sigs": ["4"]},  # no priority between 3 and 4
        {"id": "5", "puid": "t/5", "ext": ["txt"], "mime": "text/plain"},
        {"id": "6", "puid": "t/6", "ext": ["dup"]},
        {"id": "7", "puid": "t/7", "ext": ["dup"]},
    ]
    sigs = {"1": "4142", "2": "41424344", "3": "5859", "4": "58"}
    return PronomIdentifier(droid_file(tmp_path, formats, sigs), None)


def test_priority_relation_removes_the_weaker_format(crafted, tmp_path):
    (tmp_path / "a.bin").write_bytes(b"ABCDxyz")
    r = crafted.identify(tmp_path / "a.bin")
    assert (r.puid, r.basis, r.warning) == ("t/2", "signature", None)
    (tmp_path / "b.bin").write_bytes(b"ABxx")
    assert crafted.identify(tmp_path / "b.bin").puid == "t/1"


def test_several_matches_without_priority_give_no_puid_and_name_all(crafted, tmp_path):
    (tmp_path / "c.bin").write_bytes(b"XYZ")
    r = crafted.identify(tmp_path / "c.bin")
    assert r.puid is None and r.basis == "signature"
    assert "t/3" in r.warning and "t/4" in r.warning


def test_extension_only_without_signature_match_and_says_so(crafted, tmp_path):
    (tmp_path / "d.txt").write_bytes(b"hello")
    r = crafted.identify(tmp_path / "d.txt")
    assert (r.puid, r.basis, r.mime) == ("t/5", "extension", "text/plain")
    assert "extension" in r.warning
    (tmp_path / "e.dup").write_bytes(b"hello")
    r = crafted.identify(tmp_path / "e.dup")
    assert r.puid is None and r.basis == "extension" and "t/6" in r.warning and "t/7" in r.warning
    # a format with a signature is not claimed from its extension alone (DROID's default)
    (tmp_path / "f.aa").write_bytes(b"hello")
    r = crafted.identify(tmp_path / "f.aa")
    assert (r.puid, r.basis) == (None, "none")
    # a signature match wins over a contradicting extension
    (tmp_path / "g.txt").write_bytes(b"ABCD")
    assert crafted.identify(tmp_path / "g.txt").puid == "t/2"


def test_empty_and_unknown_files(crafted, tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "odd").write_bytes(os.urandom(3000).replace(b"A", b"a").replace(b"X", b"x"))
    for name in ("empty", "odd"):
        r = crafted.identify(tmp_path / name)
        assert (r.puid, r.basis, r.format) == (None, "none", None)


def test_bad_signature_files_are_refused(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<FFSignatureFile><unclosed>")
    with pytest.raises(SignatureFileError, match="bad.xml"):
        load_signature_set(bad, None, tmp_path)
    other = tmp_path / "other.xml"
    other.write_text("<root/>")
    with pytest.raises(SignatureFileError, match="not a DROID signature file"):
        load_signature_set(other, None, tmp_path)
    broken = droid_file(tmp_path, [{"id": "1", "puid": "t/1", "sigs": ["1"]}], {"1": "4G"})
    with pytest.raises(SignatureFileError, match="DROID.xml"):
        load_signature_set(broken, None, tmp_path)


def test_xxe_in_a_signature_file_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("t/secret")
    ns = "http://www.nationalarchives.gov.uk/pronom/SignatureFile"
    p = tmp_path / "xxe.xml"
    p.write_text(
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
        f'<FFSignatureFile xmlns="{ns}" Version="1"><InternalSignatureCollection/>'
        f'<FileFormatCollection><FileFormat ID="1" PUID="&e;" Name="n"/>'
        f"</FileFormatCollection></FFSignatureFile>"
    )
    try:
        ss = load_signature_set(p, None, tmp_path)
    except SignatureFileError:
        return
    assert all("secret" not in f.puid for f in ss.formats.values())


def test_compiled_signatures_are_cached_on_disk(tmp_path, monkeypatch):
    droid, cont = fido_signature_files()
    load_signature_set(droid, cont, tmp_path)
    cached = list((tmp_path / "formats" / "cache").glob("*.pickle"))
    assert len(cached) == 1
    import magazin.core.formats.library as lib

    monkeypatch.setattr(lib, "read_signature_files", lambda *a: pytest.fail("parsed again"))
    assert load_signature_set(droid, cont, tmp_path).version == "109"
    monkeypatch.undo()
    cached[0].write_bytes(b"not a pickle")  # a damaged cache is rebuilt, not trusted
    assert load_signature_set(droid, cont, tmp_path).version == "109"


# -- containers ---------------------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in files.items():
            z.writestr(k, v)
    return buf.getvalue()


def test_container_signatures_for_ooxml_odf_and_ole2(v122, tmp_path):
    import random

    from bench.corpus import _docx, _odt

    rng = random.Random(1)
    docx = tmp_path / "brief.docx"
    docx.write_bytes(_docx("Sehr geehrte Damen und Herren", rng))
    r = v122.identify(docx)
    assert (r.puid, r.basis, r.format) == ("fmt/412", "container", "Microsoft Word for Windows")
    ct = (
        b'<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sheet.main+xml"/></Types>'
    )
    xlsx = tmp_path / "liste.xlsx"
    xlsx.write_bytes(_zip({"[Content_Types].xml": ct, "xl/workbook.xml": b"<workbook/>"}))
    assert (v122.identify(xlsx).puid, v122.identify(xlsx).basis) == ("fmt/214", "container")
    odt = tmp_path / "rede.odt"
    odt.write_bytes(_odt("Liebe Magdeburgerinnen", rng))
    r = v122.identify(odt)
    assert (r.puid, r.basis, r.version) == ("fmt/291", "container", "1.2")  # as siegfried
    # a ZIP that is no office document stays a ZIP
    plain = tmp_path / "paket.zip"
    plain.write_bytes(_zip({"a.txt": b"a", "b/c.txt": b"c"}))
    assert (v122.identify(plain).puid, v122.identify(plain).basis) == ("x-fmt/263", "signature")
    doc = tmp_path / "alt.doc"
    doc.write_bytes(
        write_cfb(
            {
                "WordDocument": b"\xec\xa5" + b"\x00" * 600,
                "CompObj": b"\x00" * 40 + b"\x10\x00\x00\x00Word.Document.8\x00",
            }
        )
    )
    r = v122.identify(doc)
    assert (r.puid, r.basis) == ("fmt/40", "container")


def test_damaged_containers_keep_their_byte_signature_answer(v122, tmp_path):
    z = _zip({"[Content_Types].xml": b"x" * 5000})
    cut = tmp_path / "cut.docx"
    cut.write_bytes(z[: len(z) // 2])  # no central directory
    r = v122.identify(cut)
    assert r.basis != "container"
    ole = tmp_path / "cut.doc"
    ole.write_bytes(write_cfb({"WordDocument": b"x" * 9000})[:1500])
    assert v122.identify(ole).basis != "container"


def test_container_members_are_read_only_as_far_as_signatures_need(v122, tmp_path, monkeypatch):
    big = tmp_path / "big.docx"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>" + b" " * (64 << 20))  # 64 MiB, unpacked
        z.writestr("word/document.xml", b"<w:document/>")
    read = []
    orig = zipfile.ZipExtFile.read

    def counting(self, n=-1):
        data = orig(self, n)
        read.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    v122.identify(big)
    assert sum(read) <= max(m.head_size for m in v122.engine.members.values()) + (1 << 16)


def test_only_the_needed_windows_of_a_file_are_read(v122, tmp_path):
    """A 2 GiB (sparse) file costs the head and tail windows, not its size."""
    f = tmp_path / "huge.pdf"
    with open(f, "wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.seek((2 << 30) - 7)
        fh.write(b"\n%%EOF\n")
    io_file = Path("/proc/self/io")
    if not io_file.exists():
        pytest.skip("no /proc/self/io to count bytes read")

    def rchar() -> int:
        for line in io_file.read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
        raise AssertionError("no rchar")

    before = rchar()
    r = v122.identify(f)
    used = rchar() - before
    assert (r.puid, r.basis) == ("fmt/18", "signature")
    assert used < v122.head_size + v122.tail_size + (1 << 16)


# -- the skeleton suites ------------------------------------------------------------------

# Where an identifier following DROID's method cannot return the PUID in the file name, with
# the reason. Every entry must still happen (the test fails when it no longer does).
SEVERAL = "both signatures match the skeleton and V122 has no priority relation between them"
SKELETON_EXCEPTIONS = {
    "fmt-2040-signature-id-3406.gml": ("fmt/101 fmt/2040", SEVERAL),
    "fmt-2081-signature-id-3444.xml": ("fmt/101 fmt/2081", SEVERAL),
    "fmt-2085-signature-id-3448.fwdata": ("fmt/101 fmt/2085", SEVERAL),
    "fmt-2090-signature-id-3453.tif": ("fmt/2090 fmt/353", SEVERAL),
    "fmt-2091-signature-id-3454.tif": ("fmt/2091 fmt/353", SEVERAL),
    "x-fmt-389-signature-id-144.wav": ("fmt/142 x-fmt/389", SEVERAL),
    "x-fmt-396-signature-id-145.wav": ("fmt/142 x-fmt/396", SEVERAL),
    "x-fmt-397-signature-id-143.wav": ("fmt/142 x-fmt/397", SEVERAL),
    "x-fmt-80-signature-id-859.pct": ("fmt/1427 x-fmt/80", SEVERAL),
}
# DROID's exception lists describe DROID's own skeleton files (one "malformated", others
# carrying bytes of a second signature). The skeletons here are made from the signature
# alone, so they identify as the PUID in their name; the CSV's DROID rows say otherwise.
DROID_OWN_FILES = {
    "fmt-1062-signature-id-1435.3fr",
    "fmt-1157-signature-id-1539.nfo",
    "fmt-1739-signature-id-2077.toast",
    "fmt-1757-signature-id-2094.iso",
    "fmt-1757-signature-id-2095.iso",
}


def _skeleton_results(ident: PronomIdentifier, tmp_path: Path) -> list[tuple[dict, object]]:
    """Every skeleton of both suites, made from the signatures, with its identification."""
    from .conftest import shared_fixtures

    pronom = shared_fixtures() / "pronom"
    sigs = {s.id: s for s in ident.sigset.signatures}
    conts = {c.id: c for c in ident.sigset.containers}
    rows = list(csv.DictReader(open(pronom / "skeleton_expected_puids.csv", encoding="utf-8")))
    assert len(rows) == 4682
    out = []
    for r in rows:
        if r["signature_in_v122_files"] != "yes":
            continue  # made from signatures V122 no longer has (three siegfried files)
        name = r["file_name"]
        if r["signature_type"] == "binary":
            data = skeleton(sigs[r["signature_id"]])
            tail = data[-ident.tail_size :] if ident.tail_size else b""
            res = ident.identify_windows(data[: ident.head_size], tail, name)
        else:
            path = tmp_path / name
            path.write_bytes(container_skeleton(conts[r["signature_id"]]))
            res = ident.identify(path)
            path.unlink()
        out.append((r, res))
    return out


def test_skeleton_suites(v122, tmp_path):
    wrong, seen_exceptions = [], set()
    results = _skeleton_results(v122, tmp_path)
    assert len(results) == 4679
    for r, res in results:
        name = r["file_name"]
        expected = r["puid_from_name"] if name in DROID_OWN_FILES else r["expected_puid"] or None
        if name in SKELETON_EXCEPTIONS:
            cands, _reason = SKELETON_EXCEPTIONS[name]
            if (
                res.puid is None
                and res.warning
                and set(cands.split()) == set(res.warning.split(": ")[1].split(", "))
            ):
                seen_exceptions.add(name)
                continue
        if res.puid != expected or (res.basis not in ("signature", "container")):
            wrong.append((r["suite"], name, expected, res.puid, res.basis, res.warning))
    assert not wrong, f"{len(wrong)} skeletons identified wrongly: {wrong[:20]}"
    assert seen_exceptions == set(SKELETON_EXCEPTIONS), "an exception no longer happens"


def test_both_literal_scanners_give_the_same_answers(v122, tmp_path, fixtures, monkeypatch):
    """Hyperscan where installed, Aho-Corasick elsewhere: the same identifications."""
    from magazin.core.formats import literals

    if literals.BACKEND != "hyperscan":
        pytest.skip("hyperscan is not installed here; the suite ran on Aho-Corasick")
    monkeypatch.setattr(literals, "BACKEND", "aho-corasick")
    pronom = fixtures / "pronom"
    other = PronomIdentifier(pronom / V122, pronom / C2026)
    assert other.engine.binary.scans[0][2].backend == "aho-corasick"
    ours = [res for _, res in _skeleton_results(v122, tmp_path)]
    theirs = [res for _, res in _skeleton_results(other, tmp_path)]
    assert ours == theirs
    for p in sorted((fixtures / "formats").rglob("*")):
        if p.is_file():
            assert v122.identify(p) == other.identify(p), p


# -- real files: fido and siegfried -------------------------------------------------------

_FIDO_OOXML = {
    "fido-fmt/189.word": "fmt/412",
    "fido-fmt/189.xl": "fmt/214",
    "fido-fmt/189.ppt": "fmt/215",
}
# Where we differ from fido 1.6.1's answer (expected_puids.csv), and why.
FIDO_DIFFERENCES = {
    # newer signature files (V122 / containers 2026) name the precise format
    "LibreOfficeBase_odb_1.3.odb": (
        "fmt/1752",
        "ODF 1.3 database: container signature newer than fido's",
    ),
    "LibreOfficeCalc_ods_1.3.ods": ("fmt/1755", "ODF 1.3: container signature newer than fido's"),
    "LibreOfficeDraw_odg_1.3.odg": ("fmt/1753", "ODF 1.3: container signature newer than fido's"),
    "LibreOfficeImpress_odp_1.3.odp": (
        "fmt/1754",
        "ODF 1.3: container signature newer than fido's",
    ),
    "LibreOfficeWriter_odt_1.3.odt": ("fmt/1756", "ODF 1.3: container signature newer than fido's"),
    "fmt-1196-container-signature-id-31020.siard": (
        "fmt/1196",
        "container signature newer than fido's",
    ),
    "fmt-136-container-signature-id-6000.odt": ("fmt/136", "fido leaves three ODF candidates"),
    "fmt-290-container-signature-id-6010.odt": ("fmt/290", "fido leaves three ODF candidates"),
    "fmt-291-container-signature-id-6020.odt": ("fmt/291", "fido leaves three ODF candidates"),
    "fmt-424-container-signature-id-9020.odb": ("fmt/424", "fido leaves three ODF candidates"),
    "fmt-119-signature-id-121.bmp": ("fmt/119", "fido found no signature, guessed from .bmp"),
    # fido stops at the generic OLE2 answer; its container file has no match for these
    "lorem-ipsum.doc": ("fmt/40", "Word 97-2003 by the CompObj container signature"),
    "fmt-40-container-signature-id-1020.doc": ("fmt/40", "Word 97-2003 by container signature"),
    "Benchmark.msg": ("x-fmt/430", "Outlook message by container signature"),
    # fido keeps a candidate that PRONOM's priorities remove
    "Reviews.xls": ("fmt/61", "fido leaves fmt/61 and x-fmt/17"),
    "fmt-61-container-signature-id-2010.xls": ("fmt/61", "fido leaves fmt/61 and x-fmt/17"),
    # fido guesses from extensions of formats that have signatures; DROID does not
    "pdf-17-header18.pdf": (None, "header says PDF 1.8, which no signature knows: unknown"),
    "lorem-ipsum.txt": ("x-fmt/111", "only Plain Text has .txt and no signature"),
}


def test_real_files_agree_with_fido_or_differ_for_a_documented_reason(v122, fixtures):
    rows = list(csv.DictReader(open(fixtures / "formats" / "expected_puids.csv", encoding="utf-8")))
    assert len(rows) == 116
    wrong = []
    for r in rows:
        res = v122.identify(fixtures / "formats" / r["path"])
        fido = r["fido_puids"]
        for k, v in _FIDO_OOXML.items():
            fido = fido.replace(k, v)
        name = Path(r["path"]).name
        expected = FIDO_DIFFERENCES[name][0] if name in FIDO_DIFFERENCES else (fido or None)
        if r["expected_puid"]:  # skeletons: the PUID in the name is the reference
            assert expected == r["expected_puid"], name
        if res.puid != expected:
            wrong.append((r["path"], expected, res.puid, res.basis, res.warning))
    assert not wrong, wrong


def test_same_signature_files_as_fido_same_answers(v109, tmp_path):
    """With fido's own signature files, fido and the engine agree on everyday documents."""
    from bench.corpus import make_corpus

    sip, _ = make_corpus(tmp_path / "corpus", 24, seed=7)
    fido = FidoIdentifier()
    files = sorted(p for p in sip.rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".pdf", ".docx", ".odt", ".txt"}
    for p in files:
        ours, theirs = v109.identify(p), fido.identify(p)
        if p.suffix == ".txt":  # fido lists every format with .txt; DROID only x-fmt/111
            assert (ours.puid, ours.basis) == ("x-fmt/111", "extension")
            assert theirs.puid is None and "x-fmt/111" in theirs.warning
        elif p.suffix in (".docx", ".odt"):  # fido: basis "signature" for its OOXML ids
            assert ours.puid == theirs.puid and ours.basis == "container", p
        else:
            assert (ours.puid, ours.basis) == (theirs.puid, theirs.basis), p


def test_siegfried_agrees_on_the_real_files(v122, fixtures):
    pygfried = pytest.importorskip("pygfried", reason="pygfried (siegfried) not installed")
    rows = list(csv.DictReader(open(fixtures / "formats" / "expected_puids.csv", encoding="utf-8")))
    differ = {}
    for r in rows:
        p = fixtures / "formats" / r["path"]
        ours, sf = v122.identify(p).puid, pygfried.identify(str(p))
        if ours != sf:
            differ[Path(r["path"]).name] = (ours, sf)
    # siegfried 1.11 bundles PRONOM data newer than V122 (FictionBook 2 is fmt/2106 there)
    assert differ == {
        "lorem-ipsum.fb2": ("fmt/101", "fmt/2106"),
        "pdf-17-header18.pdf": (None, "UNKNOWN"),
    }


# -- the CLI ------------------------------------------------------------------------------


def test_formats_update_installs_newer_signatures_and_ingest_records_them(
    archive, home, fixtures, tmp_path
):
    info = archive.json("formats", "info")
    assert info["droid_version"] == "109"
    out = archive.json(
        "formats", "update", str(fixtures / "pronom" / V122), str(fixtures / "pronom" / C2026)
    )
    assert out["droid_version"] == "122" and out["container_signatures"] == 310
    assert "V122" in out["engine"] and "container-signature-20260119" in out["engine"]
    cur = json.loads((home.path / "formats" / "current.json").read_text())
    assert cur["droid"] == V122
    assert archive.json("formats", "info")["droid_version"] == "122"

    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "rede.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    r = archive.json("ingest", str(sip), "--tenant", "stadt", "--fonds", "OB-Reden")
    show = archive.json("aip", "show", r["aips"][0]["aid"])
    assert show["files"][0]["puid"] == "fmt/18"
    ev = next(e for e in show["events"] if e["type"] == "format identification")
    assert "DROID signature file V122" in ev["detail"]

    # a DROID file alone keeps the installed container file
    archive.json("formats", "update", str(fixtures / "pronom" / V122))
    assert archive.json("formats", "info")["container"].startswith(C2026)


def test_formats_update_refuses_bad_files_and_changes_nothing(archive, home, tmp_path):
    bad = tmp_path / "DROID_bad.xml"
    bad.write_text("<FFSignatureFile")
    code, out, err = archive("formats", "update", str(bad))
    assert code == 1 and "DROID_bad.xml" in err and "nothing changed" in err
    assert not (home.path / "formats" / "current.json").exists()
    code, out, err = archive("formats", "update", str(tmp_path / "missing.xml"))
    assert code == 1 and "missing.xml" in err
    assert archive.json("formats", "info")["droid_version"] == "109"


def test_formats_identify_walks_folders(archive, tmp_path):
    d = tmp_path / "mixed"
    (d / "sub").mkdir(parents=True)
    (d / "a.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    (d / "sub" / "b.txt").write_text("Hallo")
    (d / "sub" / "c.xyz").write_bytes(b"\x01\x02\x03")
    out = archive.json("formats", "identify", str(d))
    by = {Path(x["path"]).name: x for x in out}
    assert set(by) == {"a.pdf", "b.txt", "c.xyz"}
    assert by["a.pdf"]["puid"] == "fmt/276" and by["a.pdf"]["basis"] == "signature"
    assert by["b.txt"]["basis"] == "extension" and by["b.txt"]["warning"]
    assert by["c.xyz"]["puid"] is None and by["c.xyz"]["basis"] == "none"
    for x in out:
        assert set(x) == {"path", "puid", "format", "version", "mime", "basis", "warning"}


def test_ingest_identifies_in_its_copying_pass(archive, home, tmp_path, monkeypatch):
    """The ingest identifies from the bytes it copies (head and tail windows over chunk
    borders), not by reading the files again; answers equal identifying the files."""
    import random

    from bench.corpus import _docx, _odt, _pdf, _text
    from magazin.core import staging

    monkeypatch.setattr(staging, "CHUNK", 4096)  # windows over many chunk borders
    rng = random.Random(3)
    sip = tmp_path / "sip"
    sip.mkdir()
    big = _pdf(_text(rng, 40_000), rng)
    assert len(big) > 300_000
    files = {
        "gross.pdf": big,
        "klein.pdf": _pdf("kurz", rng),
        "brief.docx": _docx("Brief", rng),
        "rede.odt": _odt("Rede", rng),
        "notiz.txt": b"Notiz",
        "daten.xyz": b"\x00\x01\x02",
    }
    for name, data in files.items():
        (sip / name).write_bytes(data)
    ident = PronomIdentifier(*fido_signature_files())
    expected = {name: ident.identify(sip / name) for name in files}
    monkeypatch.setattr(
        PronomIdentifier, "identify", lambda *a, **k: pytest.fail("file read again to identify")
    )
    r = archive.json("ingest", str(sip), "--tenant", "stadt", "--fonds", "OB-Reden")
    got = {}
    for aip in r["aips"]:
        for f in archive.json("aip", "show", aip["aid"])["files"]:
            got[Path(f["path"]).name] = (f["puid"], f["basis"])
    assert got == {n: (e.puid, e.basis) for n, e in expected.items()}
    assert got["gross.pdf"][0] == "fmt/17" and got["brief.docx"] == ("fmt/412", "container")


def test_unbounded_gaps_inside_a_pattern_become_subsequence_borders():
    from lxml import etree

    from magazin.core.formats.signatures import _internal_signature

    el = etree.fromstring(
        "<InternalSignature ID='1'><ByteSequence Reference='BOFoffset'>"
        "<SubSequence Position='1' SubSeqMinOffset='0' SubSeqMaxOffset='4'>"
        "<Sequence>'ab' * 'cd' {2-*} 'ef'</Sequence></SubSequence></ByteSequence>"
        "</InternalSignature>"
    )
    (seq,) = _internal_signature(el, "").sequences
    assert [(s.elements, s.min_offset, s.max_offset) for s in seq.subsequences] == [
        ((P.Lit(b"ab"),), 0, 4),
        ((P.Lit(b"cd"),), 0, None),
        ((P.Lit(b"ef"),), 2, None),
    ]
    assert all(b"*" not in P.regex(s.elements) for s in seq.subsequences)


def test_large_ingests_identify_in_a_worker_process(archive, home, tmp_path, monkeypatch):
    """Above PROCESS_MIN_FILES the windows are identified in a worker process (own GIL);
    its answers are the engine's."""
    import random

    from bench.corpus import _docx, _odt, _pdf
    from magazin.core import staging
    from magazin.core.formats import worker

    monkeypatch.setattr(staging, "PROCESS_MIN_FILES", 2)
    started = []
    orig = worker.IdentifyProcess.__init__

    def spy(self, *a, **k):
        orig(self, *a, **k)
        started.append(self.proc.pid)

    monkeypatch.setattr(worker.IdentifyProcess, "__init__", spy)
    rng = random.Random(5)
    sip = tmp_path / "sip"
    sip.mkdir()
    files = {
        "a.pdf": _pdf("eins", rng),
        "b.docx": _docx("zwei", rng),
        "c.odt": _odt("drei", rng),
        "d.txt": b"vier",
    }
    for name, data in files.items():
        (sip / name).write_bytes(data)
    ident = PronomIdentifier(*fido_signature_files())
    expected = {n: ident.identify(sip / n) for n in files}
    r = archive.json("ingest", str(sip), "--tenant", "stadt", "--fonds", "OB-Reden")
    assert len(started) == 1
    got = {}
    for aip in r["aips"]:
        for f in archive.json("aip", "show", aip["aid"])["files"]:
            got[Path(f["path"]).name] = (f["puid"], f["basis"], f["format"])
    assert got == {n: (e.puid, e.basis, e.format) for n, e in expected.items()}


def test_a_failing_identification_worker_fails_the_ingest_and_stores_nothing(
    archive, home, tmp_path, monkeypatch
):
    from magazin.core import staging
    from magazin.core.formats import worker

    from .conftest import snapshot

    monkeypatch.setattr(staging, "PROCESS_MIN_FILES", 1)
    orig = worker.IdentifyProcess.__init__

    def bad_files(self, identifier, on_end=lambda e: None):
        class Gone:
            files = (tmp_path / "gone.xml", None, None)
            agent = identifier.agent

        orig(self, Gone(), on_end)

    monkeypatch.setattr(worker.IdentifyProcess, "__init__", bad_files)
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "a.txt").write_text("a")
    (sip / "b.txt").write_text("b")
    before = snapshot(home.path / "storage")
    code, out, err = archive("ingest", str(sip), "--tenant", "stadt", "--fonds", "OB-Reden")
    assert code == 1 and "format identification failed" in err and "gone.xml" in err
    assert snapshot(home.path / "storage") == before
    assert archive.json("aip", "list") == []
