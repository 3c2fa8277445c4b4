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
