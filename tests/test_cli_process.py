"""The real `magazin` command in its own process, as a user runs it after `make start`:
`magazin init` creates the data folder (no other command does), and `serve` shows fonds and AIPs."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

from .conftest import free_port, magazin_command, run, write_tree


def test_no_archive_is_made_by_accident(blank_env, tmp_path):
    """Only `magazin init` creates an archive; any other command pointed at a folder without
    one exits 1 naming the folder and how to choose another."""
    home = Path(blank_env["MAGAZIN_HOME"])
    for argv in (("tenant", "list"), ("aip", "list", "--json"), ("serve", "--port", "1")):
        r = run(blank_env, *argv, check=1)
        assert str(home) in r.stderr and "MAGAZIN_HOME" in r.stderr
        assert "magazin init" in r.stderr and "Traceback" not in r.stderr
        assert not home.exists()
    # without MAGAZIN_HOME: the user's data folder, not the current directory
    xdg = tmp_path / "xdg"
    e = {k: v for k, v in blank_env.items() if k != "MAGAZIN_HOME"}
    e["XDG_DATA_HOME"] = str(xdg)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    r = subprocess.run(
        magazin_command() + ["tenant", "list"], env=e, cwd=cwd, capture_output=True, text=True
    )
    assert r.returncode == 1 and str(xdg / "magazin") in r.stderr
    assert list(cwd.iterdir()) == [] and not xdg.exists()
    r = subprocess.run(magazin_command() + ["init", "--json"], env=e, cwd=cwd,
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["home"] == str(xdg / "magazin")
    assert (xdg / "magazin" / "magazin.toml").is_file() and list(cwd.iterdir()) == []
    r = subprocess.run(magazin_command() + ["tenant", "list"], env=e, cwd=tmp_path,
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0 and "no tenants" in r.stdout.lower()


def test_fresh_data_folder_to_stored_aip(env, tmp_path):
    sip = write_tree(tmp_path / "reden", {"2014/neujahr.txt": "Rede", "2015/fest.txt": "Fest"})
    table = tmp_path / "reden.csv"
    table.write_bytes(
        "Datei;Titel;Datum\n2014/neujahr.txt;Neujahr;1.1.2014\n"
        "2015/fest.txt;Fest;2.2.2015\n".encode("cp1252")
    )
    assert json.loads(run(env, "aip", "list", "--json").stdout) == []
    home = Path(env["MAGAZIN_HOME"])
    assert (home / "magazin.toml").exists()
    key = (home / "secret_key").read_bytes()
    run(env, "init")  # may be re-run safely: nothing is replaced
    assert (home / "secret_key").read_bytes() == key
    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv")
    run(env, "fonds", "create", "stadt", "OB", "--title", "Oberbürgermeister")
    r = json.loads(run(env, "ingest", sip, "--metadata", table, "--json").stdout)
    assert r["status"] == "stored" and len(r["aips"]) == 2
    assert "\r" not in run(env, "ingest", sip, "--metadata", table, "--json").stderr
    r = run(env, "ingest", tmp_path / "missing", check=1)
    assert "missing" in r.stderr
    r = run(env, "ingest", sip, "--map", "nonsense", check=2)
    assert "COLUMN=FIELD" in r.stderr
    # a reader that goes away (`magazin aip list | head`): a quiet end
    p = subprocess.Popen(magazin_command() + ["aip", "list"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
    assert run(env, "user", "list").stdout == "No users.\n"
    listed = json.loads(run(env, "aip", "list", "--json").stdout)
    assert {a["title"] for a in listed} == {"Neujahr", "Fest"}
    shown = json.loads(run(env, "aip", "show", listed[0]["aid"], "--json").stdout)
    assert shown["events"] and shown["copies"]
    assert json.loads(run(env, "audit", "--json").stdout)["ok"] == 4
    ident = json.loads(run(env, "formats", "identify", sip, "--json").stdout)
    assert len(ident) == 2 and set(ident[0]) == {
        "path",
        "puid",
        "format",
        "version",
        "mime",
        "basis",
        "warning",
    }


def test_serve_lists_fonds_and_aips(env, tmp_path):
    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv")
    run(env, "fonds", "create", "stadt", "OB-Reden", "--title", "Reden")
    r = json.loads(run(env, "ingest", write_tree(tmp_path / "s", {"a.txt": "a"}), "--json").stdout)
    aid = r["aips"][0]["aid"]
    token = json.loads(
        run(env, "user", "create", "anna", "--role", "archivist", "--token", "--json").stdout
    )["token"]
    port = free_port()
    proc = subprocess.Popen(
        magazin_command() + ["serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                    body = resp.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "server did not answer"
        assert "Anmelden" in body and aid not in body  # the login page first
        auth = {"Authorization": f"Token {token}"}
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/units/", headers=auth)
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert json.loads(resp.read())["results"][0]["aid"] == aid
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/units/{aid}/", headers=auth)
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert json.loads(resp.read())["files"][0]["path"] == "a.txt"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_an_unreachable_database_is_named(blank_env, tmp_path):
    """DATABASE_URL pointing at no server (or a database not made): exit 1 naming the
    database and why, without the password and without a traceback."""
    e = {**blank_env, "DATABASE_URL": f"postgres://magazin:geheim@127.0.0.1:{free_port()}/archiv"}
    for argv in (("init",), ("aip", "list", "--json")):
        r = run(e, *argv, check=1)
        assert "archiv on 127.0.0.1" in r.stderr and "DATABASE_URL" in r.stderr, r.stderr
        assert "geheim" not in r.stderr and "Traceback" not in r.stderr
