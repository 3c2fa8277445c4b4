"""The format register (issue 13, part 2): defaults by PUID with their source, the holdings by
format and risk, a tenant's changes kept in its OCFL object (who, when, before, after) and
restored by a rebuild; another tenant keeps the defaults."""

from __future__ import annotations

import json

from magazin.core.preservation.register import DEFAULTS, PLANS, RISKS, UNSOURCED

from .conftest import storage_objects, write_tree


def test_the_defaults_rate_the_formats_archives_receive():
    assert DEFAULTS["fmt/477"].risk == "low"  # PDF/A-2b
    assert DEFAULTS["fmt/353"].risk == "low"  # TIFF
    assert DEFAULTS["fmt/290"].risk == "low"  # ODT
    assert DEFAULTS["x-fmt/111"].risk == "low"  # plain text
    assert DEFAULTS["fmt/412"].risk == "medium" and DEFAULTS["fmt/412"].plan == "office-to-pdfa"
    assert DEFAULTS["fmt/18"].risk == "medium" and DEFAULTS["fmt/18"].plan == "pdf-to-pdfa"
    assert DEFAULTS["fmt/43"].risk == "medium"  # JPEG
    assert DEFAULTS["x-fmt/44"].risk == "high"  # WordPerfect
    for e in DEFAULTS.values():
        assert e.risk in RISKS and (not e.plan or e.plan in PLANS)
        assert e.source == UNSOURCED  # no catalogue could be consulted: said so


def test_holdings_by_risk_and_a_tenants_change_kept_in_storage(archive, home, tmp_path):
    cli = archive
    cli.json("tenant", "create", "land", "--name", "Landesarchiv")
    sip = write_tree(tmp_path / "sip", {"a.txt": "eins", "b.txt": "zwei", "c.bin": b"\x00\x01"})
    cli.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    rows = {r["puid"]: r for r in cli.json("formats", "risk", "--tenant", "stadt")}
    assert rows["x-fmt/111"] == {"puid": "x-fmt/111", "format": "Plain Text File", "files": 2,
                                 "bytes": 8, "risk": "low", "plan": None}  # fmt: skip
    other = [r for p, r in rows.items() if p != "x-fmt/111"]
    assert len(other) == 1 and other[0]["puid"] not in DEFAULTS
    assert other[0]["risk"] is None  # a format the register does not know: not assessed
    r = cli.json("formats", "risk", "set", "x-fmt/111", "--tenant", "stadt", "--risk", "medium",
                 "--note", "Zeichensatz oft unbekannt")  # fmt: skip
    assert r["changed"] and r["before"]["risk"] == "low" and r["after"]["risk"] == "medium"
    assert cli.json("formats", "risk", "--tenant", "stadt")[0]["risk"] == "medium"
    # refused: an unknown risk, a plan that does not exist, not a PUID
    for bad in (["--risk", "red"], ["--plan", "magic"]):
        code, _out, _err = cli("formats", "risk", "set", "fmt/412", "--tenant", "stadt", *bad)
        assert code != 0
    code, _out, err = cli("formats", "risk", "set", "docx", "--tenant", "stadt", "--risk", "low")
    assert code != 0 and "PUID" in err
    # kept in the tenant's object: the event names who and what changed from what to what
    tenant_obj = next(p for p in storage_objects(home) if p.name.endswith("%3astadt%3atenant"))
    inv = json.loads((tenant_obj / "inventory.json").read_text())
    premis = (tenant_obj / inv["head"] / "content/metadata/preservation/premis.xml").read_text()
    assert "x-fmt/111" in premis and "'low' → 'medium'" in premis and "tester" in premis
    # the other tenant keeps the default; a rebuild restores the change
    cli.json("catalog", "rebuild")
    got = cli.json("formats", "risk", "set", "x-fmt/111", "--tenant", "stadt", "--risk", "medium")
    assert got["changed"] is False and got["before"]["note"] == "Zeichensatz oft unbekannt"
    assert cli.json("formats", "risk", "--tenant", "land") == []
    code, out, _ = cli("formats", "risk", "set", "x-fmt/111", "--tenant", "land", "--json")
    assert json.loads(out)["before"]["risk"] == "low"


def test_an_admin_changes_the_register_on_the_web_and_the_dashboard_shows_risks(
    archive, home, tmp_path, client
):
    from .conftest import PASSWORD, make_user

    cli = archive
    cli.json("ingest", write_tree(tmp_path / "sip", {"a.txt": "eins", "b.txt": "zwei"}))
    make_user(cli, "adam", "stadt", "admin")
    make_user(cli, "anna", "stadt", "archivist")
    assert client.login(username="anna", password=PASSWORD)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Formatrisiko" in page and 'class="risk-low">gering' in page
    assert 'name="action" value="risk"' not in client.get("/attention/").content.decode()
    r = client.post("/attention/", {"action": "risk", "puid": "x-fmt/111", "risk": "high"})
    assert r.status_code == 404  # only the tenant's admins change the register
    assert client.login(username="adam", password=PASSWORD)
    r = client.post("/attention/", {"action": "risk", "puid": "x-fmt/111", "risk": "high",
                                    "plan": "", "note": "Kodierung unklar"})  # fmt: skip
    assert r.status_code == 302
    row = cli.json("formats", "risk", "--tenant", "stadt")[0]
    assert row["puid"] == "x-fmt/111" and row["risk"] == "high"
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'class="risk-high">hoch' in page
