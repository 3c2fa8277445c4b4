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


def magazin(env, *args, stdin=None) -> str:
    exe = shutil.which("magazin") or sys.executable
    cmd = [exe] if exe.endswith("magazin") else [exe, "-m", "magazin.cli"]
    r = subprocess.run(cmd + [str(a) for a in args], env=env, input=stdin, text=True,
                       capture_output=True, check=True)  # fmt: skip
    return r.stdout


def demo(env, tmp: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.corpus import make_corpus

    magazin(env, "tenant", "create", "stadt", "--name", "Stadtarchiv Magdeburg")
    magazin(env, "fonds", "create", "stadt", "OB-Reden", "--title", "Oberbürgermeister, Reden")
    magazin(env, "fonds", "create", "stadt", "Rechtsamt", "--title", "Rechtsamt, Akten")
    folder, table = make_corpus(tmp / "corpus", n=60)
    magazin(env, "ingest", folder, "--fonds", "OB-Reden", "--metadata", table)
    magazin(env, "index")
    magazin(env, "user", "create", "anna", "--role", "archivist", "--password-stdin",
            stdin=PASSWORD + "\n")  # fmt: skip
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
        exe = shutil.which("magazin")
        proc = subprocess.Popen(
            [exe, "serve", "--port", str(port), "--poll-interval", "3600"],
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


def shoot(base: str, env: dict, out: Path, tmp: Path) -> None:
    from playwright.sync_api import sync_playwright

    units = json.loads(magazin(env, "aip", "list", "--json"))
    processes = json.loads(magazin(env, "xdomea", "process", "list", "--json"))
    pages = {
        "login": "/login/",
        "dashboard": "/",
        "fonds": "/fonds/OB-Reden/",
        "unit": f"/aip/{units[0]['aid']}/",
        "search": "/search/?q=Stadt",
    }
    if processes:
        pages["xdomea-appraisal"] = f"/xdomea/{processes[0]['process_id']}/"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"],
        )  # fmt: skip
        page = b.new_context(locale="de-DE", viewport={"width": 1200, "height": 900}).new_page()
        page.goto(f"{base}/login/")
        page.screenshot(path=str(out / "login.png"))
        page.get_by_label("Benutzername").fill("anna")
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(f"{base}/")
        upload(page, base, out, tmp)
        for name, path in pages.items():
            if name == "login":
                continue
            page.goto(base + path)
            page.screenshot(path=str(out / f"{name}.png"), full_page=False)
        b.close()
    print("screenshots in", out, ":", ", ".join(sorted(p.name for p in out.glob("*.png"))))


if __name__ == "__main__":
    main()
