#!/usr/bin/env python3
"""Screenshots of the main pages for docs/: a demo archive in a temporary data folder (speech
manuscripts with a table, an xdomea offer), `magazin serve`, and Debian's Chromium driven by
Playwright. Usage: python scripts/screenshots.py [--out docs]"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo-Passwort-2026"


# this clone's Magazin, in the Python running this script (.venv/bin/python)
MAGAZIN = [sys.executable, "-m", "magazin.cli"]
USERS = {"anna": "archivist", "adam": "admin", "olga": "operator", "rita": "reader"}


def magazin(env, *args, stdin=None, check=True) -> str:
    r = subprocess.run(MAGAZIN + [str(a) for a in args], env=env, input=stdin, text=True,
                       capture_output=True, check=check, cwd=ROOT)  # fmt: skip
    return r.stdout


def demo(env, tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.corpus import make_corpus

    magazin(env, "init")
    magazin(env, "tenant", "create", "stadt", "--name", "Stadtarchiv Magdeburg")
    magazin(env, "tenant", "create", "kreis", "--name", "Kreisarchiv Börde")
    magazin(
        env,
        "tenant",
        "set",
        "stadt",
        "--isil",
        "DE-Mb112",
        "--archive-type",
        "kommunal",
        "--state",
        "Sachsen-Anhalt",
        "--public-url",
        "https://archiv.magdeburg.example",
    )
    magazin(env, "tektonik", "create", "stadt", "A", "--title", "Oberbürgermeister")
    magazin(env, "tektonik", "create", "stadt", "A/A1", "--title", "Reden und Ansprachen")
    magazin(env, "tektonik", "create", "stadt", "B", "--title", "Ämter")
    magazin(env, "fonds", "create", "stadt", "OB-Reden", "--title", "Oberbürgermeister, Reden",
            "--group", "A/A1")  # fmt: skip
    magazin(env, "fonds", "create", "stadt", "Rechtsamt", "--title", "Rechtsamt, Akten",
            "--group", "B")  # fmt: skip
    folder, table = make_corpus(tmp / "corpus", n=60)
    magazin(env, "ingest", folder, "--tenant", "stadt", "--fonds", "OB-Reden", "--metadata", table,
            "--source", "Büro des Oberbürgermeisters")  # fmt: skip
    magazin(env, "index")
    for name, role in USERS.items():
        magazin(env, "user", "create", name, "--tenant", "stadt", "--role", role,
                "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    magazin(env, "user", "token", "anna", "--name", "Findbuch-Export")
    units = json.loads(magazin(env, "aip", "list", "--json"))
    closed = [u for u in units if json.loads(magazin(env, "access", "show", u["aid"], "--json"))
              ["status"] == "closed"]  # fmt: skip
    if closed:
        until = (__import__("datetime").date.today().replace(month=12, day=31)).isoformat()
        magazin(env, "access", "grant", closed[0]["aid"], "--reader", "rita", "--reason",
                "Forschungsvorhaben", "--purpose", "Dissertation", "--expires", until)  # fmt: skip
    # a delivery whose table names a file it lacks: in quarantine with its report
    bad = tmp / "Nachlieferung"
    bad.mkdir()
    (bad / "rede-neu.txt").write_text("Rede", "utf-8")
    (tmp / "nachlieferung.csv").write_text("Datei;Titel\nrede-fehlt.txt;Rede\n", "utf-8")
    magazin(env, "ingest", bad, "--tenant", "stadt", "--fonds", "OB-Reden", "--metadata",
            tmp / "nachlieferung.csv",
            check=False)  # fmt: skip
    fixtures = Path(os.environ.get("MAGAZIN_FIXTURES") or ROOT.parent / "shared" / "fixtures")
    xdomea = fixtures / "xdomea"
    if xdomea.is_dir():
        magazin(env, "xdomea", "schemas", "install", xdomea / "xsd")
        inbox = tmp / "inbox"
        magazin(env, "xdomea", "agency", "create", "stadt", "RA", "--name", "Rechtsamt",
                "--fonds", "Rechtsamt", "--inbox", inbox, "--outbox", tmp / "outbox")  # fmt: skip
        shutil.copy(next((xdomea / "messages" / "x-man").glob("*0501.zip")), inbox)
        magazin(env, "xdomea", "poll")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["MAGAZIN_HOME"] = str(tmp / "data")
        env["MAGAZIN_USER"] = "anna"
        demo(env, tmp)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            MAGAZIN + ["serve", "--port", str(port), "--poll-interval", "3600"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/login/", timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            shoot(base, env, out, tmp)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def upload(page, base: str, out: Path, tmp: Path) -> None:
    """The ingest page: upload a small delivery, follow the job to its end."""
    import zipfile

    sip = tmp / "Nachlieferung Reden 2026.zip"
    with zipfile.ZipFile(sip, "w") as zf:
        for i in range(1, 4):
            zf.writestr(f"rede-{i}.txt", f"Rede {i} zur Eröffnung des Hafens")
    page.goto(f"{base}/ingest/")
    page.get_by_label("ZIP- oder BagIt-Container").set_input_files(str(sip))
    page.get_by_role("button", name="Hochladen und übernehmen").click()
    page.wait_for_url("**/ingest/jobs/*/")
    page.get_by_text("fertig").wait_for(timeout=60_000)
    page.screenshot(path=str(out / "ingest-job.png"))
    page.goto(f"{base}/ingest/")
    page.screenshot(path=str(out / "ingest.png"))


def login(browser, base: str, user: str, shot: Path | None = None, locale: str = "de-DE",
          size: tuple[int, int] = (1200, 900)):  # fmt: skip
    """A new browser context logged in as `user` (the login form in its language)."""
    context = browser.new_context(locale=locale, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{base}/login/")
    if shot is not None:
        page.screenshot(path=str(shot))
    english = locale.startswith("en")
    page.get_by_label("User name" if english else "Benutzername").fill(user)
    page.get_by_label("Password" if english else "Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Log in" if english else "Anmelden").click()
    page.wait_for_load_state()
    return page


def shoot(base: str, env: dict, out: Path, tmp: Path) -> None:
    from playwright.sync_api import sync_playwright

    units = json.loads(magazin(env, "aip", "list", "--json"))
    processes = json.loads(magazin(env, "xdomea", "process", "list", "--json"))
    accession = json.loads(magazin(env, "accession", "list", "--json"))[0]["number"]
    quarantine = json.loads(magazin(env, "quarantine", "list", "--json"))
    # per user: (file name, page)
    pages = {
        "anna": [("dashboard", "/"), ("fonds", "/fonds/OB-Reden/?sort=date"),
                 ("unit", f"/aip/{units[0]['aid']}/"), ("search", "/search/?q=Stadt"),
                 ("accession", f"/accessions/{accession}/"), ("access-log", "/access-log/"),
                 ("journal", "/journal/")],
        "adam": [("users", "/users/"), ("tektonik", "/tektonik/"),
                 ("preservation", "/attention/?outcome=all")],
        "olga": [("storage", "/storage/"), ("tenants", "/tenants/")],
        "rita": [("reader-dashboard", "/")],
    }  # fmt: skip
    if quarantine:
        pages["anna"].append(("quarantine", f"/quarantine/{quarantine[0]['id']}/"))
    if processes:
        pages["anna"].append(("xdomea-appraisal", f"/xdomea/{processes[0]['process_id']}/"))
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"],
        )  # fmt: skip
        for user, shots in pages.items():
            page = login(b, base, user, out / "login.png" if user == "anna" else None)
            if user == "anna":
                upload(page, base, out, tmp)
            for name, path in shots:
                page.goto(base + path)
                page.screenshot(path=str(out / f"{name}.png"), full_page=False)
            page.context.close()
        # the unit page in English (as a browser asking for English sees it), a tablet
        page = login(b, base, "anna", locale="en-GB")
        page.goto(f"{base}/aip/{units[0]['aid']}/")
        page.screenshot(path=str(out / "unit-en.png"))
        page = login(b, base, "anna", size=(820, 1180))
        page.goto(f"{base}/search/?q=Hafen")
        page.screenshot(path=str(out / "search-tablet.png"))
        b.close()
    print("screenshots in", out, ":", ", ".join(sorted(p.name for p in out.glob("*.png"))))


if __name__ == "__main__":
    main()
