"""One long-lived LibreOffice, driven through UNO: started once, then converting file after
file as requests arrive on stdin (one JSON line each: src, dst, options), answering each on
stdout (one JSON line: ok, error). Starting LibreOffice costs seconds; converting a speech
manuscript a fraction of one.

This script runs under the Python that LibreOffice's `uno` module belongs to (Debian's
python3-uno: the system's python3), not Magazin's: it imports nothing of Magazin. The caller
(`convert.py`) starts it in a session of its own and kills that session - this driver and
its LibreOffice - when a conversion runs over its time.

Usage: python3 office_driver.py SOFFICE PROFILE_URL PIPE_NAME
"""

import json
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

START_TIMEOUT_S = 120
# the PDF export filter by the kind of document LibreOffice loaded
FILTERS = (
    ("com.sun.star.text.TextDocument", "writer_pdf_Export"),
    ("com.sun.star.sheet.SpreadsheetDocument", "calc_pdf_Export"),
    ("com.sun.star.presentation.PresentationDocument", "impress_pdf_Export"),
    ("com.sun.star.drawing.DrawingDocument", "draw_pdf_Export"),
)


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def reply(**answer) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def connect(soffice: str, profile_url: str, pipe: str):
    office = subprocess.Popen(
        [soffice, f"-env:UserInstallation={profile_url}", "--headless", "--invisible",
         "--nologo", "--nodefault", "--norestore", "--nolockcheck",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if office.poll() is not None:
                raise RuntimeError(f"LibreOffice ended with {office.returncode} at start") from None
            if time.monotonic() > deadline:
                raise RuntimeError("LibreOffice did not start in time") from None
            time.sleep(0.1)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return office, desktop


def convert(desktop, src: str, dst: str, options: dict) -> None:
    # hidden, read-only, macros never run, links never updated: the file may be hostile
    load = (prop("Hidden", True), prop("ReadOnly", True), prop("MacroExecutionMode", 0),
            prop("UpdateDocMode", 0))  # fmt: skip
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0, load)
    if doc is None:
        raise RuntimeError("LibreOffice cannot open the file")
    try:
        name = next((f for service, f in FILTERS if doc.supportsService(service)), None)
        if name is None:
            raise RuntimeError("LibreOffice opened the file as a document it cannot export")
        data = uno.Any(
            "[]com.sun.star.beans.PropertyValue",
            tuple(prop(k, v) for k, v in options.items()),
        )
        store = (prop("FilterName", name), prop("FilterData", data))
        uno.invoke(doc, "storeToURL", (uno.systemPathToFileUrl(dst), store))
    finally:
        try:
            doc.close(True)
        except Exception:  # noqa: BLE001 - a document that vetoes closing is disposed of
            doc.dispose()


def main() -> None:
    soffice, profile_url, pipe = sys.argv[1:4]
    try:
        office, desktop = connect(soffice, profile_url, pipe)
    except Exception as e:  # noqa: BLE001 - reported to the caller, which gives up on it
        reply(ok=False, error=str(e))
        return
    reply(ok=True, ready=True)
    try:
        for line in sys.stdin:
            req = json.loads(line)
            try:
                convert(desktop, req["src"], req["dst"], req.get("options", {}))
                reply(ok=True)
            except Exception as e:  # noqa: BLE001 - a file LibreOffice cannot convert
                msg = getattr(e, "Message", "") or str(e) or type(e).__name__
                alive = office.poll() is None
                reply(ok=False, error=msg.strip(), restart=not alive)
                if not alive:
                    return
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - it may be gone already
            pass
        try:
            office.wait(timeout=10)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main()
