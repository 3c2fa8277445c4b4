"""The real `magazin` command in its own process, as a user runs it after `make start`:
a fresh data folder is initialised by the first command, and `serve` shows fonds and AIPs."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .conftest import write_tree


def _magazin() -> list[str]:
    exe = shutil.which("magazin")
    return [exe] if exe else [sys.executable, "-m", "magazin.cli"]


def run(env, *args, check=0):
    r = subprocess.run(
        _magazin() + [str(a) for a in args], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == check, (args, r.returncode, r.stdout, r.stderr)
    return r


def test_fresh_data_folder_to_stored_aip(env, tmp_path):
    sip = write_tree(tmp_path / "reden", {"2014/neujahr.txt": "Rede", "2015/fest.txt": "Fest"})
    table = tmp_path / "reden.csv"
    table.write_bytes(
        "Datei;Titel;Datum\n2014/neujahr.txt;Neujahr;1.1.2014\n"
        "2015/fest.txt;Fest;2.2.2015\n".encode("cp1252")
    )
    # any command initialises an empty data folder
    assert json.loads(run(env, "aip", "list", "--json").stdout) == []
    home = Path(env["MAGAZIN_HOME"])
    assert (home / "magazin.toml").exists()
    run(env, "init")  # may be re-run safely
    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv")
    run(env, "fonds", "create", "stadt", "OB", "--title", "Oberbürgermeister")
    r = json.loads(run(env, "ingest", sip, "--metadata", table, "--json").stdout)
    assert r["status"] == "stored" and len(r["aips"]) == 2
    assert "\r" not in run(env, "ingest", sip, "--metadata", table, "--json").stderr
    r = run(env, "ingest", tmp_path / "missing", check=1)
    assert "missing" in r.stderr
    r = run(env, "ingest", sip, "--map", "nonsense", check=2)
    assert "COLUMN=FIELD" in r.stderr
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_lists_fonds_and_aips(env, tmp_path):
    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv")
    run(env, "fonds", "create", "stadt", "OB-Reden", "--title", "Reden")
    r = json.loads(run(env, "ingest", write_tree(tmp_path / "s", {"a.txt": "a"}), "--json").stdout)
    aid = r["aips"][0]["aid"]
    token = json.loads(
        run(env, "user", "create", "anna", "--role", "archivist", "--token", "--json").stdout
    )["token"]
    port = _free_port()
    proc = subprocess.Popen(
        _magazin() + ["serve", "--port", str(port)],
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
