"""End to end in a real browser (Debian's Chromium, driven by Playwright) against
`magazin serve`: login, upload and ingest with live progress, browse, search, unit page,
download, a reader not seeing a closed unit, a user of another tenant getting 404."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO, free_port, magazin_command, run, write_tree

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "Gutes-Passwort-2026"
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (scripts/test.sh installs it)"
    ),
    pytest.mark.once,  # the pages are the same on both databases (tests/conftest.py)
]


@pytest.fixture
def server(env, tmp_path):
    run(env, "tenant", "create", "stadt", "--name", "Stadtarchiv Magdeburg")
    run(env, "fonds", "create", "stadt", "OB-Reden", "--title", "Oberbürgermeister, Reden")
    run(env, "tenant", "create", "land", "--name", "Landesarchiv")
    sip = write_tree(tmp_path / "sip", {"alt.txt": "Rede zur Eröffnung der Elbbrücke",
                                        "neu.txt": "Haushaltsrede des Kämmerers"})  # fmt: skip
    (tmp_path / "t.csv").write_text(
        "Datei;Titel;Datum\nalt.txt;Rede 1960;1960\nneu.txt;Rede 2014;2014\n", "utf-8"
    )
    r = json.loads(
        run(
            env, "ingest", sip, "--tenant", "stadt", "--metadata", tmp_path / "t.csv", "--json"
        ).stdout
    )
    aids = {}
    for a in r["aips"]:
        d = json.loads(run(env, "aip", "show", a["aid"], "--json").stdout)
        aids[d["title"]] = a["aid"]
    run(env, "index")
    for name, tenant, role in (("anna", "stadt", "archivist"), ("rita", "stadt", "reader"),
                               ("bert", "land", "archivist"), ("adam", "stadt", "admin"),
                               ("olga", "stadt", "operator")):  # fmt: skip
        subprocess.run(
            magazin_command() + ["user", "create", name, "--tenant", tenant, "--role", role,
                          "--password-stdin"],
            input=PASSWORD + "\n", env=env, text=True, check=True, capture_output=True,
        )  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        # the background work in-process: upload jobs start within a second
        magazin_command() + ["serve", "--port", str(port), "--poll-interval", "3600"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/login/", timeout=2).close()
            break
        except OSError:
            time.sleep(0.2)
    # a refused delivery in quarantine (its job too)
    (tmp_path / "kaputt.csv").write_text("Datei;Titel\nfehlt.txt;Fehlt\n", "utf-8")
    bad = write_tree(tmp_path / "kaputt", {"da.txt": "da"})
    run(env, "ingest", bad, "--tenant", "stadt", "--metadata", tmp_path / "kaputt.csv", check=1)
    ids = {"accession": r["accession"], "code": "OB-Reden",
           "jid": json.loads(run(env, "job", "list", "--json").stdout)[0]["job"],
           "qid": json.loads(run(env, "quarantine", "list", "--json").stdout)[0]["id"]}  # fmt: skip
    aids["_ids"] = ids
    yield base, aids
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        yield b
        b.close()


def _login(browser, base: str, name: str):
    page = browser.new_context(locale="de-DE", accept_downloads=True).new_page()
    page.goto(f"{base}/")
    assert "/login/" in page.url
    page.get_by_label("Benutzername").fill(name)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{base}/")
    return page


def test_archivist_reader_and_other_tenant(server, browser, tmp_path):
    base, aids = server
    page = _login(browser, base, "anna")
    assert page.get_by_role("heading", name="Übersicht: Stadtarchiv Magdeburg").is_visible()
    # browse: holdings → fonds → unit
    page.get_by_role("link", name="Bestände").click()
    page.get_by_role("link", name="OB-Reden").first.click()
    assert page.get_by_text("Rede 2014").is_visible()
    # search (full text, umlaut folded) → unit page → download
    page.get_by_role("link", name="Suche").click()
    page.get_by_label("Wörter in Verzeichnung, Dateinamen und Dateitext").fill("Kaemmerer")
    page.get_by_role("button", name="Suche").click()
    page.get_by_role("link", name="Rede 2014").click()
    assert page.get_by_role("heading", name="Rede 2014").is_visible()
    assert "gesperrt" in page.content()  # closed until 2045
    with page.expect_download() as dl:
        page.get_by_role("link", name="neu.txt").click()
    assert Path(dl.value.path()).read_text("utf-8") == "Haushaltsrede des Kämmerers"
    page.screenshot(path=str(tmp_path / "unit.png"))
    # a reader sees the open unit only; the closed one is not found
    reader = _login(browser, base, "rita")
    reader.goto(f"{base}/holdings/")
    assert aids["Rede 1960"] in reader.content() and aids["Rede 2014"] not in reader.content()
    r = reader.goto(f"{base}/aip/{aids['Rede 2014']}/")
    assert r.status == 404 and "Haushaltsrede" not in reader.content()
    # a user of another tenant who knows the AID gets 404
    other = _login(browser, base, "bert")
    r = other.goto(f"{base}/aip/{aids['Rede 1960']}/")
    assert r.status == 404 and "Elbbrücke" not in other.content()


def test_upload_and_ingest_with_live_progress(server, browser, tmp_path):
    base, _aids = server
    sip = tmp_path / "Lieferung 2026.zip"
    with zipfile.ZipFile(sip, "w") as zf:
        zf.writestr("rede-a.txt", "Rede zum Hafenfest")
        zf.writestr("anlage.bin", bytes(range(256)) * 40_000)  # 10 MB
    table = tmp_path / "liste.csv"
    table.write_text("Datei;Titel\nrede-a.txt;Rede zum Hafenfest\nanlage.bin;Anlage\n", "utf-8")
    page = _login(browser, base, "anna")
    page.get_by_role("link", name="Übernahme").click()
    page.get_by_label("ZIP- oder BagIt-Container").set_input_files(str(sip))
    page.get_by_label("Metadatentabelle (optional, CSV oder XLSX)").set_input_files(str(table))
    page.get_by_role("button", name="Hochladen und übernehmen").click()
    page.wait_for_url("**/ingest/jobs/*/")
    assert page.get_by_role("heading", name="Übernahmeauftrag: Lieferung 2026.zip").is_visible()
    # the page follows the job by itself (no reload by the test) until it has finished
    seen = []
    for _ in range(600):
        if page.locator("text=fertig").count():
            break
        bar = page.locator("#job-progress")
        if bar.count():
            seen.append(int(bar.get_attribute("value") or 0))
        page.wait_for_timeout(100)
    assert page.get_by_text("fertig").is_visible(), page.content()
    assert page.locator("#job-progress").get_attribute("value") == "100"
    assert seen == sorted(seen)  # progress only goes forward
    aids = page.locator("main table a, body table a").all_inner_texts()
    assert len(aids) == 2 and all(a.startswith("stadt-") for a in aids), aids
    page.get_by_role("link", name="Zurück zur Übernahme").click()
    assert page.get_by_role("link", name="Lieferung 2026.zip").is_visible()
    page.goto(f"{base}/aip/{aids[0]}/")
    assert (
        page.get_by_role("heading", name="Rede zum Hafenfest")
        .or_(page.get_by_role("heading", name="Anlage"))
        .is_visible()
    )


# axe-core (npm) checks each page in the page itself; scripts/test.sh installs it
AXE = Path(os.environ.get("MAGAZIN_AXE") or REPO / ".cache/axe/node_modules/axe-core/axe.min.js")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _untranslated_candidates() -> list[str]:
    """Sentences of the catalogue whose German differs: seen in English on a German page,
    they were not translated. (Single words and templates could be record data.)"""
    import polib

    po = polib.pofile(str(REPO / "magazin/locale/de/LC_MESSAGES/django.po"))
    return [e.msgid for e in po
            if e.msgstr and e.msgstr != e.msgid and " " in e.msgid.strip()
            and "%" not in e.msgid and "{" not in e.msgid and len(e.msgid) >= 8]  # fmt: skip


ROLE_USERS = {"admin": "adam", "archivist": "anna", "reader": "rita", "operator": "olga"}


@pytest.mark.skipif(not AXE.is_file(), reason=f"axe-core not installed ({AXE}; scripts/test.sh)")
def test_every_page_as_every_role_in_german_accessible(server, browser):
    """Every page each role may see, in German: no English sentence of the catalogue in the
    rendered text, and no WCAG 2.1 AA violation that axe-core finds."""
    from .test_roles import PAGES

    base, aids = server
    ids = {**aids["_ids"], "open": aids["Rede 1960"], "closed": aids["Rede 2014"]}
    english = _untranslated_candidates()
    assert len(english) > 150
    problems = []
    walked = 0
    for role, user in ROLE_USERS.items():
        context = browser.new_context(locale="de-DE", bypass_csp=True)  # axe is injected
        page = context.new_page()
        page.goto(f"{base}/login/")
        page.get_by_label("Benutzername").fill(user)
        page.get_by_label("Passwort").fill(PASSWORD)
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_load_state()
        for path, allowed in PAGES.items():
            if role not in allowed or "/files/" in path:
                continue
            url = base + path.format(**ids)
            r = page.goto(url)
            assert r.status == 200, (role, url, r.status)
            walked += 1
            text = page.inner_text("body")
            for msgid in english:
                if msgid in text:
                    problems.append(f"{role} {path}: untranslated {msgid!r}")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
            )
            for v in result["violations"]:
                targets = [n["target"] for n in v["nodes"]][:3]
                problems.append(f"{role} {path}: {v['id']} ({v['impact']}): {targets}")
        # the error page too
        r = page.goto(f"{base}/aip/stadt-00000000000000000000000000/")
        assert r.status == 404 and "Nicht gefunden" in page.inner_text("body")
        context.close()
    assert walked >= 30
    assert not problems, "\n".join(problems)
