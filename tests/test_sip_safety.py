"""Bad input: every kind is rejected with exit 1, a clear message naming the file, and
storage and catalog untouched."""

from __future__ import annotations

import io
import os
import stat
import unicodedata
import zipfile

import pytest

from magazin.catalog.models import Accession, Unit

from .conftest import snapshot, storage_objects, write_tree


def _state(home):
    return (
        {str(p) for p in storage_objects(home)},
        Unit.objects.count(),
        Accession.objects.count(),
    )


def _reject(archive, home, sip, *extra):
    before = _state(home)
    r = archive.json("ingest", sip, *extra, expect=1)
    assert r["status"] == "rejected" and r["aips"] == []
    assert _state(home) == before
    for loc in home.locations:
        assert not any((loc.path / "staging").iterdir()), "staging must be cleaned up"
    return {(e["path"], e["code"]) for e in r["errors"]}, r


def _zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def test_zip_with_dotdot_and_absolute_paths(archive, home, tmp_path):
    z = _zip(
        tmp_path / "evil.zip",
        [("ok.txt", "ok"), ("../../etc/passwd", "x"), ("/abs.txt", "y"), ("a/../../b.txt", "z")],
    )
    errors, _ = _reject(archive, home, z)
    assert ("evil.zip:../../etc/passwd", "unsafe-path") in errors
    assert ("evil.zip:/abs.txt", "unsafe-path") in errors
    assert ("evil.zip:a/../../b.txt", "unsafe-path") in errors
    assert not (tmp_path.parent / "b.txt").exists()


def test_zip_with_symlink_entry(archive, home, tmp_path):
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    z = _zip(tmp_path / "l.zip", [("a.txt", "a"), (info, "/etc/passwd")])
    errors, _ = _reject(archive, home, z)
    assert ("l.zip:link", "symlink") in errors


def test_zip_bomb_by_ratio(archive, home, tmp_path):
    z = _zip(tmp_path / "bomb.zip", [("zeros.bin", b"\0" * (30 * 1024 * 1024))])
    errors, r = _reject(archive, home, z)
    assert ("bomb.zip:zeros.bin", "zip-bomb") in errors
    assert "ratio" in r["errors"][0]["reason"]


def test_zip_bomb_by_total_size(archive, home, tmp_path):
    toml = home.toml.read_text().replace(
        "zip_max_total_bytes = 4398046511104", "zip_max_total_bytes = 1000"
    )
    home.toml.write_text(toml)
    z = _zip(tmp_path / "big.zip", [("a.bin", os.urandom(800)), ("b.bin", os.urandom(800))])
    errors, _ = _reject(archive, home, z)
    assert ("big.zip", "zip-bomb") in errors


def test_corrupt_zip_entry_is_rejected_during_copy(archive, home, tmp_path):
    z = _zip(tmp_path / "c.zip", [("a.txt", b"hello world " * 100)])
    data = bytearray(z.read_bytes())
    i = data.index(b"a.txt") + 5 + 10  # inside the compressed data of the first entry
    data[i] ^= 0xFF
    z.write_bytes(bytes(data))
    errors, _ = _reject(archive, home, z)
    assert {c for _, c in errors} <= {"bad-zip"} and errors


def test_not_a_zip_and_missing_path(archive, home, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    errors, _ = _reject(archive, home, f)
    assert ("notes.txt", "unknown-sip") in errors
    errors, _ = _reject(archive, home, tmp_path / "nowhere")
    assert {c for _, c in errors} == {"missing-sip"}


def test_symlink_leaving_the_sip(archive, home, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    sip = write_tree(tmp_path / "sip", {"a.txt": "a"})
    os.symlink(secret, sip / "leak.txt")
    errors, r = _reject(archive, home, sip)
    assert ("leak.txt", "symlink-outside") in errors
    assert "outside" in r["errors"][0]["reason"]


def test_names_colliding_by_normalisation_or_case(archive, home, tmp_path):
    nfc = unicodedata.normalize("NFC", "Müller.txt")
    nfd = unicodedata.normalize("NFD", "Müller.txt")
    sip = write_tree(tmp_path / "sip", {nfc: "1", nfd: "2"})
    errors, r = _reject(archive, home, sip)
    assert {c for _, c in errors} == {"name-collision"}
    assert "normalisation" in r["errors"][0]["reason"]
    sip2 = write_tree(tmp_path / "sip2", {"Akte.pdf": "1", "akte.PDF": "2"})
    errors, r = _reject(archive, home, sip2)
    assert {c for _, c in errors} == {"name-collision"} and "case" in r["errors"][0]["reason"]


def test_empty_sip(archive, home, tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    errors, _ = _reject(archive, home, tmp_path / "empty")
    assert ("empty", "empty-sip") in errors
    z = _zip(tmp_path / "empty.zip", [])
    errors, _ = _reject(archive, home, z)
    assert {c for _, c in errors} == {"empty-sip"}


def test_control_characters_in_names(archive, home, tmp_path):
    sip = write_tree(tmp_path / "sip", {"bad\nname.txt": "x"})
    errors, _ = _reject(archive, home, sip)
    assert {c for _, c in errors} == {"bad-name"}


def test_xdomea_messages_are_refused_with_a_pointer(archive, home, tmp_path):
    z = _zip(
        tmp_path / "1234_Aussonderung.Aussonderung.0503.zip",
        [("1234_Aussonderung.Aussonderung.0503.xml", "<x/>")],
    )
    errors, r = _reject(archive, home, z)
    assert {c for _, c in errors} == {"xdomea-message"}
    assert "magazin xdomea poll" in r["errors"][0]["reason"]
    z2 = _zip(
        tmp_path / "lieferung.zip", [("abc_Aussonderung.Anbieteverzeichnis.0501.xml", "<x/>")]
    )
    errors, _ = _reject(archive, home, z2)
    assert {c for _, c in errors} == {"xdomea-message"}


def test_odd_unicode_names_survive_ingest_and_export(archive, home, tmp_path):
    names = [
        unicodedata.normalize("NFD", "Grüße an Ölmühle.txt"),
        "leer zeichen.txt",
        "日本語.txt",
        "emoji 🎉.txt",
        "percent %41.txt",
        "#hash&amp.txt",
    ]
    sip = write_tree(tmp_path / "sip", {f"d/{n}": n for n in names})
    before = snapshot(sip)
    r = archive.json("ingest", sip)
    aid = r["aips"][0]["aid"]
    show = archive.json("aip", "show", aid)
    assert sorted(f["path"] for f in show["files"]) == sorted(f"d/{n}" for n in names)
    out = tmp_path / "dip.zip"
    archive.json("export", aid, "--out", out)
    with zipfile.ZipFile(out) as zf:
        for n in names:
            assert zf.read(f"representations/original/data/d/{n}") == n.encode()
        mets = zf.read("METS.xml").decode()
        premis = zf.read("metadata/preservation/premis.xml").decode()
    for n in names:
        assert f"<premis:originalName>d/{n.replace('&', '&amp;')}</premis:originalName>" in premis
        assert f'xlink:title="d/{n.replace("&", "&amp;")}"' in mets
    assert snapshot(sip) == before


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_plain_sip_becomes_one_aip(archive, home, tmp_path, kind):
    files = {"a.txt": "a", "sub/b.txt": "b", "sub/deeper/c.txt": "c"}
    if kind == "folder":
        sip = write_tree(tmp_path / "Lieferung", files)
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for k, v in files.items():
                zf.writestr(k, v)
        sip = tmp_path / "Lieferung.zip"
        sip.write_bytes(buf.getvalue())
    r = archive.json("ingest", sip)
    assert len(r["aips"]) == 1 and r["aips"][0]["files"] == 3 and r["aips"][0]["bytes"] == 3
    show = archive.json("aip", "show", r["aips"][0]["aid"])
    assert show["title"] == "Lieferung"
    assert sorted(f["path"] for f in show["files"]) == sorted(files)
    again = archive.json("ingest", sip)
    assert again["status"] == "duplicate" and again["aips"][0]["aid"] == r["aips"][0]["aid"]


def test_real_xdomea_messages_are_refused_whatever_their_name(archive, home, tmp_path, fixtures):
    msgs = sorted((fixtures / "xdomea" / "messages").rglob("*0503*.xml"))
    assert msgs
    for i, msg in enumerate(msgs[:3]):
        folder = tmp_path / f"lieferung{i}"
        folder.mkdir()
        (folder / "nachricht.xml").write_bytes(msg.read_bytes())
        (folder / "anlage.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
        errors, r = _reject(archive, home, folder)
        assert {c for _, c in errors} == {"xdomea-message"}
        z = _zip(tmp_path / f"l{i}.zip", [("x.xml", msg.read_bytes())])
        errors, _ = _reject(archive, home, z)
        assert {c for _, c in errors} == {"xdomea-message"}
