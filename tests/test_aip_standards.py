"""AIPs meet the standards: METS and PREMIS valid against their schemas, storage roots valid
for ocfl-py's validator (no errors, no warnings), layout 0003 as ocfl-py computes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from magazin.core.storage import layout

from .conftest import ocfl_root_validate, storage_objects, write_tree

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


class _LocalSchemas(etree.Resolver):
    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def resolve(self, url, pubid, context):
        name = url.rsplit("/", 1)[-1]
        if (self.folder / name).exists():
            return self.resolve_filename(str(self.folder / name), context)
        return None


def _schema(fixtures: Path, name: str) -> etree.XMLSchema:
    folder = fixtures / "schemas"
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas(folder))
    return etree.XMLSchema(etree.parse(str(folder / name), parser))


@pytest.fixture
def stored(archive, home, tmp_path):
    sip = write_tree(tmp_path / "sip", {"Reden/rede ä.pdf": PDF, "Reden/notiz.txt": "notiz"})
    t = tmp_path / "t.csv"
    t.write_text(
        "Datei;Titel;Datum\nReden/rede ä.pdf;Rede;1.2.2015\nReden/notiz.txt;Notiz;2015\n", "utf-8"
    )
    archive.json("ingest", sip, "--metadata", t)
    return home


def test_mets_and_premis_are_schema_valid(stored, fixtures):
    mets_schema = _schema(fixtures, "mets.xsd")
    premis_schema = _schema(fixtures, "premis-v3-0.xsd")
    objects = storage_objects(stored)
    assert len(objects) == 2 * 5
    for obj in objects:
        for m in obj.glob("v*/content/METS.xml"):
            doc = etree.parse(str(m))
            assert mets_schema.validate(doc), (m, mets_schema.error_log)
        for p in obj.glob("v*/content/metadata/preservation/premis.xml"):
            doc = etree.parse(str(p))
            assert premis_schema.validate(doc), (p, premis_schema.error_log)


def test_storage_roots_pass_ocfl_py_without_warnings(stored):
    for loc in stored.locations:
        roots = list((loc.path / "roots").iterdir())
        assert [r.name for r in roots] == ["stadt"]
        out = ocfl_root_validate(roots[0])
        assert "Objects checked: 5 / 5 are VALID" in out, out
        assert f"Storage root {roots[0]} is VALID" in out, out
        assert not re.search(r"\[[EW]\d{3}\]", out), out
        assert "WARN" not in out.upper() and "ERROR" not in out.upper(), out


def test_every_object_passes_ocfl_py_object_validation_without_warnings(stored):
    from ocfl.validator import Validator

    for obj in storage_objects(stored):
        v = Validator(log_warnings=True, check_digests=True)
        assert v.validate_object(str(obj)), v.status_str()
        assert v.log.num_warnings == 0 and v.log.num_errors == 0, v.status_str()


def test_layout_0003_matches_ocfl_py():
    from ocfl.layout_0003_hash_and_id_n_tuple import Layout_0003_Hash_And_Id_N_Tuple

    ref = Layout_0003_Hash_And_Id_N_Tuple()
    for oid in [
        "urn:magazin:stadt:01J9ZQ2XK8Y0000000000000",
        "ark:123/abc",
        "a" * 150,
        "Müller und Söhne:1",
        "urn:magazin:stadt:fonds:OB-Reden",
    ]:
        assert layout.object_path(oid) == ref.identifier_to_path(oid)


def test_each_tenant_has_its_own_storage_root(archive, home, tmp_path):
    archive.json("tenant", "create", "partner", "--name", "Kreisarchiv")
    archive.json("fonds", "create", "partner", "K1", "--title", "Kreistag")
    sip = write_tree(tmp_path / "sip", {"a.txt": "a"})
    r = archive.json("ingest", sip, "--tenant", "partner", "--fonds", "K1")
    aid = r["aips"][0]["aid"]
    assert aid.startswith("partner-")
    for loc in home.locations:
        assert sorted(p.name for p in (loc.path / "roots").iterdir()) == ["partner", "stadt"]
        found = [
            p
            for p in (loc.path / "roots").rglob("0=ocfl_object_1.1")
            if aid.split("-", 1)[1] in str(p)
        ]
        assert len(found) == 1 and "/roots/partner/" in str(found[0])


def test_identical_files_are_stored_once_per_object(archive, home, tmp_path):
    from magazin.core.storage.ocfl import OcflObject
    from magazin.core.storage.validate import validate_object

    sip = write_tree(
        tmp_path / "sip", {"a/same.txt": "gleich", "b/c/same.txt": "gleich", "d.txt": "anders"}
    )
    r = archive.json("ingest", sip)
    shown = archive.json("aip", "show", r["aips"][0]["aid"])
    assert sorted(f["path"] for f in shown["files"]) == ["a/same.txt", "b/c/same.txt", "d.txt"]
    ulid = r["aips"][0]["aid"].split("-", 1)[1]
    for obj_dir in storage_objects(home):
        if ulid not in obj_dir.name:
            continue
        ok, errors, warnings = validate_object(obj_dir)
        assert ok and not warnings, errors + warnings
        obj = OcflObject.open(obj_dir)
        data = [p for p in obj.content_files() if "/data/" in p]
        assert len(data) == 2  # "gleich" once, "anders" once
        state = obj.state()
        assert (
            state["representations/original/data/a/same.txt"]
            == state["representations/original/data/b/c/same.txt"]
        )
    out = tmp_path / "dip.zip"
    archive.json("export", r["aips"][0]["aid"], "--out", out)
    import zipfile

    with zipfile.ZipFile(out) as zf:
        assert zf.read("representations/original/data/b/c/same.txt") == b"gleich"
