"""Installing the official xdomea XSD sets into MAGAZIN_HOME (issue 4, first part)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from magazin.core.xdomea.schemas import SchemaError, install, installed, schema_dir, schema_for

from .conftest import snapshot

XMAN = "9a75050f-323a-4e84-94c9-a889aa2b4fe8_Aussonderung.Anbieteverzeichnis.0501"


@pytest.fixture
def xsd(fixtures) -> Path:
    return fixtures / "xdomea" / "xsd"


def _message(fixtures: Path) -> bytes:
    with zipfile.ZipFile(fixtures / "xdomea" / "messages" / "x-man" / f"{XMAN}.zip") as z:
        return z.read(f"{XMAN}.xml")


def test_install_every_version_and_validate_a_real_message(home, xsd, fixtures):
    done = install(home.path, xsd)
    assert [v.version for v in done] == ["2.3.0", "2.4.0", "3.0.0", "3.1.0"]
    assert installed(home.path) == ["2.3.0", "2.4.0", "3.0.0", "3.1.0"]
    assert (schema_dir(home.path) / "xoev" / "xoev-code.xsd").is_file()
    schema = schema_for(home.path, "3.0.0")
    doc = etree.fromstring(_message(fixtures))
    assert schema.validate(doc), schema.error_log
    # the same message breaks once an element it requires is gone
    kopf = doc.find("{urn:xoev-de:xdomea:schema:3.0.0}Kopf")
    doc.remove(kopf)
    assert not schema.validate(doc)
    # and it is not valid against another version's schema
    assert not schema_for(home.path, "3.1.0").validate(etree.fromstring(_message(fixtures)))


def test_one_version_finds_its_xoev_helpers_beside_it_or_by_option(home, xsd, tmp_path):
    assert [v.version for v in install(home.path, xsd / "3.1.0")] == ["3.1.0"]
    lone = tmp_path / "lone"
    shutil.copytree(xsd / "2.4.0", lone)
    before = snapshot(schema_dir(home.path))
    with pytest.raises(SchemaError, match=r"xoev-code\.xsd|latinchars\.xsd") as e:
        install(home.path, lone)
    assert "--xoev" in str(e.value)
    assert snapshot(schema_dir(home.path)) == before
    assert [v.version for v in install(home.path, lone, xsd / "xoev")] == ["2.4.0"]
    assert installed(home.path) == ["2.4.0", "3.1.0"]


def test_a_broken_set_is_refused_and_the_installed_one_kept(home, xsd, tmp_path):
    install(home.path, xsd / "3.0.0")
    before = snapshot(schema_dir(home.path))
    bad = tmp_path / "xsd"
    shutil.copytree(xsd, bad)
    f = bad / "3.0.0" / "xdomea-Datentypen.xsd"
    f.write_bytes(f.read_bytes()[:-200])  # cut off: malformed XML
    with pytest.raises(SchemaError, match="3.0.0"):
        install(home.path, bad)
    assert snapshot(schema_dir(home.path)) == before
    (bad / "3.0.0" / "xdomea-Nachrichten-AussonderungDurchfuehren.xsd").unlink()
    with pytest.raises(SchemaError, match="AussonderungDurchfuehren.xsd is missing"):
        install(home.path, bad)


def test_zip_sources_and_unsafe_zips(home, xsd, tmp_path):
    z = tmp_path / "xdomea-3.1.0.zip"
    with zipfile.ZipFile(z, "w") as out:
        for p in sorted((xsd / "3.1.0").glob("*.xsd")) + sorted((xsd / "xoev").glob("*.xsd")):
            out.write(p, f"schemas/{p.parent.name}/{p.name}")
    assert [v.version for v in install(home.path, z)] == ["3.1.0"]
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as out:
        out.writestr("../../outside.xsd", "<x/>")
    with pytest.raises(SchemaError, match="unsafe path"):
        install(home.path, evil)
    assert not (tmp_path.parent / "outside.xsd").exists()
    nothing = tmp_path / "empty"
    nothing.mkdir()
    with pytest.raises(SchemaError, match="no xdomea schema set"):
        install(home.path, nothing)


def test_external_entities_in_a_schema_are_not_read(home, xsd, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("XXE-LEAK-7f3a")
    bad = tmp_path / "xsd"
    shutil.copytree(xsd / "3.1.0", bad / "3.1.0")
    shutil.copytree(xsd / "xoev", bad / "xoev")
    f = bad / "3.1.0" / "xdomea-Datentypen.xsd"
    text = f.read_text(encoding="utf-8")
    head, rest = text.split("?>", 1)
    f.write_text(
        f'{head}?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
        + rest.replace(
            "</xs:schema>",
            "<xs:annotation><xs:documentation>&e;</xs:documentation></xs:annotation></xs:schema>",
        ),
        encoding="utf-8",
    )
    install(home.path, bad)  # the entity stays an unresolved reference
    from magazin.core.xdomea.schemas import _parser

    for p in schema_dir(home.path).rglob("*.xsd"):
        assert b"XXE-LEAK-7f3a" not in etree.tostring(etree.parse(str(p), _parser()))
    assert schema_for(home.path, "3.1.0") is not None


def test_messages_of_a_version_not_installed_say_how_to_install(home):
    with pytest.raises(SchemaError, match="magazin xdomea schemas install"):
        schema_for(home.path, "2.4.0")


def test_cli(cli, xsd, tmp_path):
    assert cli.json("xdomea", "schemas", "list") == {"versions": []}
    out = cli.json("xdomea", "schemas", "install", str(xsd))
    assert [v["version"] for v in out["installed"]] == ["2.3.0", "2.4.0", "3.0.0", "3.1.0"]
    assert all(set(v) == {"version", "files", "path"} for v in out["installed"])
    assert cli.json("xdomea", "schemas", "list")["versions"] == ["2.3.0", "2.4.0", "3.0.0", "3.1.0"]
    code, _out, err = cli("xdomea", "schemas", "install", str(tmp_path / "missing"))
    assert code == 1 and "missing" in err and "nothing changed" in err


# -- reading message containers -----------------------------------------------------------


def _container(tmp_path: Path, name: str, xml: bytes, extra: dict | None = None) -> Path:
    pid = name.split("_", 1)[0]
    tmp_path.mkdir(parents=True, exist_ok=True)
    z = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(f"{name}.xml", xml)
        for k, v in (extra or {}).items():
            out.writestr(k, v)
    assert z.name.startswith(pid)
    return z


@pytest.fixture
def schemas(home, xsd):
    install(home.path, xsd)
    return home


def test_the_real_containers_are_read_and_validated(schemas, fixtures):
    from magazin.core.xdomea.messages import read_message

    folder = fixtures / "xdomea" / "messages" / "x-man"
    got = {}
    for z in sorted(folder.glob("*.zip")):
        m = read_message(z, schemas.path)
        got[m.code] = (m.version, m.process_id, len(m.documents))
    assert got == {
        "0501": ("3.0.0", "9a75050f-323a-4e84-94c9-a889aa2b4fe8", 0),
        "0503": ("3.0.0", "9a75050f-323a-4e84-94c9-a889aa2b4fe8", 3),
        "0505": ("3.0.0", "9a75050f-323a-4e84-94c9-a889aa2b4fe8", 0),
    }


@pytest.mark.parametrize("version", ["2.3.0", "2.4.0", "3.0.0"])
def test_toolkit_patterns_of_every_version_validate(schemas, fixtures, tmp_path, version):
    from magazin.core.xdomea.messages import read_message

    src = fixtures / "xdomea" / "messages" / "toolkit-patterns" / version
    for f in sorted(src.glob("*.xml")):
        name = f.stem.split("_", 1)[1]
        root = etree.fromstring(f.read_bytes())
        ns = etree.QName(root).namespace
        pid = root.findtext(f"{{{ns}}}Kopf/{{{ns}}}ProzessID").strip()
        z = _container(tmp_path, f"{pid}_{name}", f.read_bytes())
        m = read_message(z, schemas.path)
        assert (m.version, m.name) == (version, name)


def test_bad_messages_get_a_specific_error(schemas, fixtures, tmp_path):
    from magazin.core.xdomea.messages import MessageError, read_message

    pid = "9a75050f-323a-4e84-94c9-a889aa2b4fe8"
    name = "Aussonderung.Anbieteverzeichnis.0501"
    good = _message(fixtures)

    def code_of(z: Path) -> tuple[str, str]:
        with pytest.raises(MessageError) as e:
            read_message(z, schemas.path)
        return e.value.code, str(e.value)

    d = tmp_path
    assert code_of(_container(d / "a", f"{pid}_{name}", b"<oops"))[0] == "bad-xml"
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert code_of(_container(d / "b", f"{pid}_{name}", xxe))[0] == "bad-xml"
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
    )
    assert code_of(_container(d / "c", f"{pid}_{name}", bomb))[0] == "bad-xml"
    other_ns = good.replace(b"urn:xoev-de:xdomea:schema:3.0.0", b"urn:example:other")
    assert code_of(_container(d / "e", f"{pid}_{name}", other_ns))[0] == "bad-namespace"
    invalid = good.replace(
        b"<xdomea:Nachrichtentyp>", b"<xdomea:Unbekannt/><xdomea:Nachrichtentyp>"
    )
    code, msg = code_of(_container(d / "f", f"{pid}_{name}", invalid))
    assert code == "invalid" and "Unbekannt" in msg and f"{pid}_{name}.xml" in msg
    wrong_pid = f"00000000-0000-0000-0000-000000000000_{name}"
    assert code_of(_container(d / "g", wrong_pid, good))[0] == "process-mismatch"
    bad_name = _container(d / "h", f"{pid}_{name}", good).rename(d / "h" / "nachricht.zip")
    assert code_of(bad_name)[0] == "bad-name"
    mixed = _container(d / "i", f"{pid}_Aussonderung.Aussonderung.0503", good)
    assert code_of(mixed)[0] == "name-mismatch"
    z = d / "j" / f"{pid}_{name}.zip"
    z.parent.mkdir()
    with zipfile.ZipFile(z, "w") as out:
        out.writestr(f"{pid}_{name}.xml", good)
        out.writestr("../../evil.pdf", b"%PDF")
    code, msg = code_of(z)
    assert code == "unsafe-path" and "evil.pdf" in msg
    with zipfile.ZipFile(d / "k.zip", "w") as out:
        out.writestr("x.txt", b"x")
    empty = (d / "k.zip").rename(d / f"{pid}_{name}.zip")
    assert code_of(empty)[0] == "no-message"


def test_a_version_without_schemas_is_refused_with_the_install_hint(home, fixtures, tmp_path):
    from magazin.core.xdomea.messages import MessageError, read_message

    pid = "9a75050f-323a-4e84-94c9-a889aa2b4fe8"
    z = _container(tmp_path, f"{pid}_Aussonderung.Anbieteverzeichnis.0501", _message(fixtures))
    with pytest.raises(MessageError, match="magazin xdomea schemas install") as e:
        read_message(z, home.path)
    assert e.value.code == "schema-missing"
