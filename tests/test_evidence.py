"""Trusted time-stamps and evidence records (issue 15, parts 2 and 3): `evidence run` has a
local TSA (`openssl ts` behind a loopback HTTP endpoint) time-stamp the journal's head and
every AIP version journaled since; `evidence export` writes an AIP version's RFC 4998
record, `evidence verify` checks it against the inventory on storage; `journal verify`
reports what the time-stamps anchor, and finds a chain rewritten whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from magazin.core.config import load_home
from magazin.core.evidence import ers
from magazin.core.evidence.journal import canonical, entry_hash
from magazin.core.ids import evidence_id, journal_id
from magazin.core.storage.store import Storage

from .conftest import write_tree
from .tsa import LocalTsa


@pytest.fixture(scope="session")
def tsa(tmp_path_factory):
    authority = LocalTsa(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.close()


def configure(home, tsa: LocalTsa, **more: str) -> None:
    toml = home.path / "magazin.toml"
    lines = [f'tsa_url = "{tsa.url}"', f'tsa_certificate = "{tsa.ca}"']
    lines += [f'{k} = "{v}"' for k, v in more.items()]
    toml.write_text(toml.read_text().replace("[evidence]\n", "[evidence]\n" + "\n".join(lines)
                                             + "\n"))  # fmt: skip


@pytest.fixture
def stamped(archive, home, tsa, tmp_path):
    configure(home, tsa)
    sip = write_tree(tmp_path / "sip", {"rede.txt": "Rede zur Eröffnung"})
    aid = archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")["aips"][0]["aid"]
    archive.json("aip", "edit", aid, "--title", "Rede 1990")
    r = archive.json("evidence", "run")
    return archive, aid, r


def _files(home, oid: str, logical: str) -> list[Path]:
    """Where a logical file of an object lies (in whichever version), in every location."""
    out = []
    for loc in Storage(load_home(home.path)).replicas:
        obj = loc.open("stadt", oid)
        digest = next(d for v in obj.inventory["versions"].values()
                      for d, paths in v["state"].items() if logical in paths)  # fmt: skip
        out.append(obj.local_file(obj.inventory["manifest"][digest][0]))
    return out


def test_a_run_time_stamps_the_journal_and_the_new_versions(stamped, home, tsa, tmp_path):
    cli, aid, r = stamped
    entries = cli.json("journal", "show")
    assert r["run"] == 1 and r["journal_until"] == entries[-1]["seq"]
    assert r["versions"] == 5  # tenant, fonds, AIP v1 and v2, accession
    # the token is real: openssl checks it on the tree's root
    storage = Storage(load_home(home.path))
    obj = storage.open("stadt", evidence_id("stadt"))
    run = json.loads(obj.read("runs/000001.json"))
    token = obj.read("runs/000001.tsr")
    root = ers.build(run["hash"], [bytes.fromhex(leaf["digest"]) for leaf in run["leaves"]]).root
    assert "Verification: OK" in tsa.openssl_verify(token, root, tmp_path)
    # the journal keeps the time-stamp of its head too, with what leads to the token's root
    jobj = storage.open("stadt", journal_id("stadt"))
    kept = {p: v for v, d in jobj.inventory["versions"].items() for ps in d["state"].values()
            for p in ps if p.startswith("timestamps/")}  # fmt: skip
    assert set(kept) == {"timestamps/000001.json", "timestamps/000001.tsr"}
    anchor = json.loads(jobj.read("timestamps/000001.json", kept["timestamps/000001.json"]))
    assert jobj.read("timestamps/000001.tsr", kept["timestamps/000001.tsr"]) == token
    reduced = [[bytes.fromhex(v) for v in p] for p in anchor["reduced"]]
    assert ers.root_of("sha256", bytes.fromhex(anchor["digest"]), reduced) == root
    assert anchor["seq"] == r["journal_until"]
    assert run["leaves"][0] == {"journal": entries[-1]["seq"],
                                "digest": ers.digest("sha256", canonical(
                                    {k: v for k, v in entries[-1].items()
                                     if k != "actor_name"})).hex()}  # fmt: skip
    # the journal is anchored up to the head then
    v = cli.json("journal", "verify")
    assert v["valid"] and v["anchored_until"] == r["journal_until"] and v["unanchored"] == 0, v
    cli.json("aip", "edit", aid, "--title", "Rede 1991")
    v = cli.json("journal", "verify")
    assert v["anchored_until"] == r["journal_until"] and v["unanchored"] == 1, v
    # nothing new: no run; something new: a run of just that
    again = cli.json("evidence", "run")
    assert again["run"] == 2 and again["versions"] == 1
    assert cli.json("evidence", "run")["run"] is None


@pytest.mark.once  # the evidence is the same on both databases
def test_an_evidence_record_is_exported_and_verified(stamped, home, tmp_path):
    cli, aid, _r = stamped
    out = tmp_path / "rede.ers"
    info = cli.json("evidence", "export", aid, "--out", out)
    assert info["version"] == "v2"
    er = ers.EvidenceRecord.load(out.read_bytes())
    assert er["version"].native == 1
    [chain] = er["archive_time_stamp_sequence"]
    [ats] = chain
    assert ats["digest_algorithm"]["algorithm"].native == "sha256"
    first = [bytes(v.native) for v in ats["reduced_hashtree"][0]]
    v2 = Storage(load_home(home.path)).open("stadt", info["object"])
    with v2.open_content("v2/inventory.json") as f:
        assert ers.digest("sha256", f.read()) in first
    for version in ("v1", "v2"):
        r = cli.json("evidence", "verify", aid, "--version", version)
        assert r["valid"] and len(r["time_stamps"]) == 1, r
        assert r["time_stamps"][0]["tsa"].endswith("Magazin Test TSA")
    # a version not yet time-stamped says so
    cli.json("aip", "edit", aid, "--title", "Rede 1991")
    r = cli.json("evidence", "verify", aid, expect=1)
    assert r["version"] == "v3" and "not time-stamped yet" in r["problems"][0]
    cli.json("evidence", "run")
    assert cli.json("evidence", "verify", aid)["valid"]
    assert cli("evidence", "verify", aid, "--version", "v9")[0] == 1
    # a record exported earlier is checked as it is: intact, and with a byte changed
    assert cli.json("evidence", "verify", aid, "--version", "v2", "--record", out)["valid"]
    data = out.read_bytes()
    at = data.find(first[0])  # inside the reduced hash tree
    tampered = tmp_path / "tampered.ers"
    tampered.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
    r = cli.json("evidence", "verify", aid, "--version", "v2", "--record", tampered, expect=1)
    assert not r["valid"] and r["problems"], r
    assert cli("evidence", "verify", aid, "--record", tmp_path / "fehlt.ers")[0] == 1
    # the index of which runs hold what is read again from storage when it is lost
    index = home.path / "evidence" / "stadt" / "runs.json"
    assert index.exists()
    index.unlink()
    assert cli.json("evidence", "verify", aid)["valid"] and index.exists()


@pytest.mark.once  # the evidence is the same on both databases
def test_a_changed_inventory_fails_its_evidence(stamped, home):
    cli, aid, _r = stamped
    oid = cli.json("aip", "show", aid)["ocfl_id"]
    for loc in Storage(load_home(home.path)).replicas:  # v1's (the head's is the root's too)
        p = loc.open("stadt", oid).local_file("v1/inventory.json")
        data = json.loads(p.read_text())
        data["versions"]["v1"]["message"] = "umgeschrieben"
        p.write_text(json.dumps(data))
    r = cli.json("evidence", "verify", aid, "--version", "v1", expect=1)
    assert not r["valid"] and "not in the first partial hash tree" in r["problems"][0], r
    assert cli.json("evidence", "verify", aid, "--version", "v2")["valid"]
    # and the journal names the version whose inventory changed
    v = cli.json("journal", "verify", expect=1)
    assert any("v1/inventory.json differs" in p["problem"] for p in v["problems"]), v


@pytest.mark.once  # the evidence is the same on both databases
def test_a_changed_token_or_tree_fails(stamped, home):
    cli, aid, _r = stamped
    token_files = _files(home, evidence_id("stadt"), "runs/000001.tsr")
    good = token_files[0].read_bytes()
    i = len(good) - 40  # inside the signature
    for p in token_files:
        p.write_bytes(good[:i] + bytes([good[i] ^ 0xFF]) + good[i + 1 :])
    r = cli.json("evidence", "verify", aid, expect=1)
    assert "signature does not verify" in " ".join(r["problems"]), r
    assert cli.json("journal", "verify", expect=1)["anchored_until"] is None
    for p in token_files:
        p.write_bytes(good)
    assert cli.json("evidence", "verify", aid)["valid"]
    # a leaf of the kept tree changed: the record no longer leads to the time-stamped root
    for p in _files(home, evidence_id("stadt"), "runs/000001.json"):
        run = json.loads(p.read_text())
        run["leaves"][1]["digest"] = "00" * 32
        p.write_text(json.dumps(run))
    r = cli.json("evidence", "verify", aid, expect=1)
    assert "covers another value" in " ".join(r["problems"]), r


@pytest.mark.once  # the evidence is the same on both databases
def test_a_chain_rewritten_whole_is_found_by_its_time_stamp(stamped, home):
    """Hashes recomputed after an edit: the chain is whole again, but the entry time-stamped
    as the head is no longer the one the chain holds."""
    cli, _aid, r = stamped
    cli.json("journal", "flush")
    for p in _files(home, journal_id("stadt"), _segment(home)):
        lines = [json.loads(x) for x in p.read_bytes().splitlines() if x.strip()]
        lines[2]["details"]["accession"] = "2026-9999"
        prev = lines[1]["hash"]
        for e in lines[2:]:
            e["prev"] = prev
            e["hash"] = entry_hash(e)
            prev = e["hash"]
        p.write_bytes(b"".join(canonical(e) + b"\n" for e in lines))
    v = cli.json("journal", "verify", expect=1)
    assert v["first_bad"] == r["journal_until"], v
    assert any("not the entry time-stamped" in p["problem"] for p in v["problems"]), v


def _segment(home) -> str:
    obj = Storage(load_home(home.path)).open("stadt", journal_id("stadt"))
    return next(p for v in obj.inventory["versions"].values() for ps in v["state"].values()
                for p in ps if p.startswith("journal/"))  # fmt: skip


@pytest.mark.once  # the evidence is the same on both databases
def test_credentials_and_no_authority(archive, home, tmp_path):
    tsa = LocalTsa(tmp_path / "tsa-auth", user="archiv", password="geheim-2026")
    try:
        (home.path / "tsa-password").write_text("falsch\n")
        configure(home, tsa, tsa_user="archiv", tsa_password_file="tsa-password")
        code, _out, err = archive("evidence", "run")
        assert code == 1 and "HTTP 401" in err
        (home.path / "tsa-password").write_text("geheim-2026\n")
        assert archive.json("evidence", "run")["run"] == 1
    finally:
        tsa.close()


@pytest.mark.once  # the evidence is the same on both databases
def test_a_client_certificate_opens_a_tls_authority(archive, home, tmp_path, monkeypatch):
    """A TSA over HTTPS that serves only clients with a certificate its CA issued
    (`tsa_client_cert`, `tsa_client_key`); the server's CA trusted through SSL_CERT_FILE."""
    tsa = LocalTsa(tmp_path / "tsa-tls", tls=True)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(tsa.ca))
        configure(home, tsa)
        code, _out, err = archive("evidence", "run")
        assert code == 1 and "not reached" in err and tsa.requests == 0, err
        toml = home.path / "magazin.toml"
        toml.write_text(toml.read_text().replace("[evidence]\n", "[evidence]\n"
            f'tsa_client_cert = "{tsa.dir / "client.crt"}"\n'
            f'tsa_client_key = "{tsa.dir / "client.key"}"\n'))  # fmt: skip
        assert archive.json("evidence", "run")["run"] == 1 and tsa.requests == 1
    finally:
        tsa.close()


@pytest.mark.once  # the evidence is the same on both databases
def test_a_revoked_authority_is_not_renewed(archive, home, tmp_path):
    """A TSA certificate on its CA's revocation list (key compromise): its time-stamps
    cannot be carried on by a renewal, which says so; nothing is stored."""
    tsa = LocalTsa(tmp_path / "tsa-revoked")
    try:
        configure(home, tsa)
        sip = write_tree(tmp_path / "sip", {"rede.txt": "Rede"})
        archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
        archive.json("evidence", "run")
        storage = Storage(load_home(home.path))
        before = storage.open("stadt", evidence_id("stadt")).head
        tsa.revoke()
        code, _out, err = archive("evidence", "renew", "--timestamps", "--force")
        assert code == 1 and "revoked" in err and "keyCompromise" in err, err
        assert "run 1" in err
        assert Storage(load_home(home.path)).open("stadt", evidence_id("stadt")).head == before
    finally:
        tsa.close()


def test_without_an_authority_it_says_so(archive):
    code, _out, err = archive("evidence", "run")
    assert code == 1 and "tsa_url" in err
    assert archive.json("journal", "verify")["timestamps"] == "not configured"


BC_JARS = [Path("/usr/share/java") / f"{n}.jar" for n in ("bcpkix", "bcprov", "bcutil")]


@pytest.fixture(scope="session")
def bouncy_castle(tmp_path_factory):
    """Bouncy Castle's RFC 4998 verifier (tests/java/ErsVerify.java), compiled once with
    Debian's JDK against Debian's libbcpkix-java."""
    import shutil
    import subprocess

    missing = [str(j) for j in BC_JARS if not j.exists()]
    if shutil.which("javac") is None or missing:
        pytest.skip("Bouncy Castle's check needs javac (openjdk-17-jdk-headless) and "
                    f"libbcpkix-java ({', '.join(missing) or 'present'}): scripts/test.sh "
                    "installs them")  # fmt: skip
    out = tmp_path_factory.mktemp("bc")
    classpath = ":".join(str(j) for j in BC_JARS)
    source = Path(__file__).parent / "java" / "ErsVerify.java"
    subprocess.run(["javac", "-cp", classpath, "-d", str(out), str(source)], check=True,
                   capture_output=True, timeout=300)  # fmt: skip

    def verify(*pairs: tuple[Path, Path]) -> list[str]:
        """One line per (record, data): VALID … or INVALID …"""
        args = [str(p) for pair in pairs for p in pair]
        done = subprocess.run(["java", "-cp", f"{classpath}:{out}", "ErsVerify", *args],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    return verify


@pytest.mark.once  # the evidence is the same on both databases
def test_bouncy_castle_verifies_the_records(archive, home, tsa, tmp_path, bouncy_castle):
    configure(home, tsa)
    aids = []
    for i in range(4):  # 13 leaves: pairs, a group of three, carried-up nodes
        sip = write_tree(tmp_path / f"sip{i}", {f"rede{i}.txt": f"Rede {i}"})
        r = archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
        aids.append(r["aips"][0]["aid"])
    archive.json("aip", "edit", aids[0], "--title", "Erste Rede")
    archive.json("evidence", "run")
    storage = Storage(load_home(home.path))
    pairs = []
    for aid in aids:
        for version in ("v1", "v2") if aid == aids[0] else ("v1",):
            record = tmp_path / f"{aid}-{version}.ers"
            info = archive.json("evidence", "export", aid, "--version", version, "--out", record)
            data = tmp_path / f"{aid}-{version}.json"
            obj = storage.open("stadt", info["object"])
            with obj.open_content(f"{version}/inventory.json") as f:
                data.write_bytes(f.read())
            pairs.append((record, data))
    other = tmp_path / "other.json"  # an inventory the record does not cover
    other.write_bytes(pairs[0][1].read_bytes() + b" ")
    said = bouncy_castle(*pairs, (pairs[0][0], other))
    assert all(line.startswith("VALID") for line in said[:-1]), said
    assert said[-1].startswith("INVALID"), said


@pytest.mark.once  # the evidence is the same on both databases
def test_records_stay_verifiable_through_both_renewals(archive, home, tsa, tmp_path,
                                                       bouncy_castle):  # fmt: skip
    """A time-stamp renewal (a TSA certificate expiring within renew_days), then a hash-tree
    renewal with SHA-512: each record still verifies, by Magazin and by Bouncy Castle, with
    every time-stamp of its chains checked."""
    configure(home, tsa)
    aids = []
    for i in range(3):
        sip = write_tree(tmp_path / f"sip{i}", {f"rede{i}.txt": f"Rede {i}"})
        r = archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
        aids.append(r["aips"][0]["aid"])
    archive.json("evidence", "run")
    nothing = archive.json("evidence", "renew", "--timestamps")  # the TSA cert has a year
    assert nothing[0]["runs"] == []
    toml = home.path / "magazin.toml"
    toml.write_text(toml.read_text().replace("[evidence]\n", "[evidence]\nrenew_days = 400\n"))
    renewed = archive.json("evidence", "renew", "--timestamps")[0]
    assert renewed["chains"] == 1 and len(renewed["runs"]) == 1, renewed
    storage = Storage(load_home(home.path))
    inventory = storage.open("stadt", evidence_id("stadt")).inventory
    validation = [(vname, p) for vname, v in inventory["versions"].items()
                  for ps in v["state"].values() for p in ps
                  if p.startswith("validation/")]  # fmt: skip
    assert validation, "the validation data is kept"
    vname, path = validation[0]
    pem = storage.open("stadt", evidence_id("stadt")).read(path, vname)
    # the TSA's chain, and the CA's revocation list its certificate names
    assert pem.count(b"BEGIN CERTIFICATE") == 2 and pem.count(b"BEGIN X509 CRL") == 1, pem
    assert renewed["revocation_unavailable"] == []
    for aid in aids:
        r = archive.json("evidence", "verify", aid)
        assert r["valid"] and [s["chain"] for s in r["time_stamps"]] == [1, 1], r
    hashed = archive.json("evidence", "renew", "--hash", "sha512")[0]
    assert hashed["versions"] == 8, hashed  # tenant, fonds, 3 × (AIP, accession)
    archive.json("evidence", "renew", "--timestamps", "--force")
    pairs = []
    for aid in aids:
        r = archive.json("evidence", "verify", aid)
        assert r["valid"], r
        # the first chain closed by the hash renewal; only the new one was renewed again
        assert [(s["chain"], s["hash"]) for s in r["time_stamps"]] == [
            (1, "sha256"), (1, "sha256"), (2, "sha512"), (2, "sha512")], r  # fmt: skip
        record = tmp_path / f"{aid}.ers"
        info = archive.json("evidence", "export", aid, "--out", record)
        data = tmp_path / f"{aid}.json"
        with storage.open("stadt", info["object"]).open_content("v1/inventory.json") as f:
            data.write_bytes(f.read())
        pairs.append((record, data))
    said = bouncy_castle(*pairs)
    assert all(line.startswith("VALID") for line in said), said
    # the old chain's token changed: Magazin's own check of every time-stamp finds it
    good = _files(home, evidence_id("stadt"), "runs/000001.tsr")
    data = good[0].read_bytes()
    for p in good:
        p.write_bytes(data[:-40] + bytes([data[-40] ^ 0xFF]) + data[-39:])
    r = archive.json("evidence", "verify", aids[0], expect=1)
    assert any(p.startswith("chain 1, time-stamp 1") for p in r["problems"]), r


def test_the_unit_page_and_the_dip_carry_the_evidence(stamped, home, client, tmp_path):
    import zipfile

    from django.contrib.auth import get_user_model

    from .conftest import make_user

    cli, aid, _r = stamped
    make_user(cli, "erika", "stadt", "archivist")
    make_user(cli, "rita", "stadt", "reader")
    cli.json("evidence", "verify", aid)
    users = get_user_model().objects
    client.force_login(users.get(username="erika"))
    client.post("/language/", {"language": "de", "next": "/"})
    page = client.get(f"/aip/{aid}/").content.decode()
    assert "Zeitgestempelt seit" in page and "Magazin Test" not in page  # the URL, not names
    assert "Zuletzt geprüft" in page and "gültig" in page
    r = client.get(f"/aip/{aid}/evidence.ers")
    assert r.status_code == 200 and r["Content-Disposition"].endswith('-v2.ers"')
    assert ers.EvidenceRecord.load(r.content)["version"].native == 1
    storage = client.get("/storage/")  # an archivist is no operator
    assert storage.status_code == 404
    # the DIP holds the record with the inventory it covers
    out = tmp_path / "dip.zip"
    cli.json("export", aid, "--out", out)
    with zipfile.ZipFile(out) as zf:
        record, inventory = zf.read("evidence/v2.ers"), zf.read("evidence/v2/inventory.json")
    from magazin.core.evidence.records import verify_record
    from magazin.core.evidence.tsp import load_certificates

    toml = (home.path / "magazin.toml").read_text()
    ca = Path(toml.split('tsa_certificate = "')[1].split('"')[0])
    assert verify_record(record, inventory, load_certificates(ca))["valid"]
    # a reader sees no evidence section and gets no record
    client.force_login(users.get(username="rita"))
    assert client.get(f"/aip/{aid}/evidence.ers").status_code == 404


def test_the_worker_time_stamps_when_due(archive, home, tsa, tmp_path):
    from magazin.catalog.evidence import run_due

    configure(home, tsa)
    sip = write_tree(tmp_path / "sip", {"rede.txt": "Rede"})
    archive.json("ingest", sip, "--tenant", "stadt", "--fonds", "OB-Reden")
    done = run_due(load_home(home.path))
    assert [d["run"] for d in done] == [1]
    assert run_due(load_home(home.path)) == [], "nothing new: no run"
    archive.json("fonds", "create", "stadt", "B2", "--title", "Zweiter Bestand")
    assert run_due(load_home(home.path)) == [], "something new, but the last run is recent"
    v = archive.json("journal", "verify")
    assert v["valid"] and v["anchored_until"] == done[0]["journal_until"] and v["unanchored"] == 1
