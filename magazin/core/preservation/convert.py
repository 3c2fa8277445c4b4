"""Running a plan's tool on one file: each run time-boxed, in a session of its own (killed
with everything it started when it runs over), writing only into a folder of its own.

LibreOffice gets a profile folder per worker, so that several can run at once, and stays
running for that worker (`OfficeProcess`, driven through UNO by `office_driver.py`):
starting it costs seconds, a conversion a fraction of one. Where LibreOffice's Python
bridge (python3-uno) is missing, each file gets a LibreOffice of its own
(`soffice --convert-to`), which gives the same PDF, slowly."""

from __future__ import annotations

import atexit
import functools
import glob
import json
import os
import select
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from .plans import Plan

TIMEOUT_S = 600


class ConversionFailed(Exception):
    """The tool did not produce a result (its message says why)."""


def _run(cmd: list[str], timeout: float, cwd: Path | None = None, env=None) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                            start_new_session=True)  # fmt: skip
    try:
        _out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise ConversionFailed(f"{cmd[0]}: timed out after {timeout:g} s") from None
    if proc.returncode != 0:
        msg = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ConversionFailed(f"{cmd[0]} ended with {proc.returncode}: " + " ".join(msg))


ICC = "/usr/share/color/icc/ghostscript/default_rgb.icc"  # Debian's ghostscript


def _pdfa_def(work: Path) -> Path:
    """Ghostscript's PDFA_def.ps with an sRGB output profile that exists on this machine."""
    src = sorted(glob.glob("/usr/share/ghostscript/*/lib/PDFA_def.ps"))
    if not Path(ICC).is_file() or not src:
        raise ConversionFailed("ghostscript: PDFA_def.ps or its sRGB profile not found")
    text = Path(src[-1]).read_text("latin-1").replace("(srgb.icc)", f"({ICC})")
    out = work / "PDFA_def.ps"
    out.write_text(text, "latin-1")
    return out


PDFA_2B = {"SelectPdfVersion": 2}  # LibreOffice's PDF export: PDF/A-2b
OFFICE_START_S = 180
DRIVER = Path(__file__).with_name("office_driver.py")


@functools.cache
def uno_python() -> str | None:
    """A Python that can import LibreOffice's `uno` (MAGAZIN_UNO_PYTHON, else the system's
    python3, else LibreOffice's own); None: each file gets a LibreOffice of its own."""
    wanted = os.environ.get("MAGAZIN_UNO_PYTHON")
    candidates = [wanted] if wanted is not None else [
        "/usr/bin/python3", "/usr/lib/libreoffice/program/python",
        "/opt/libreoffice/program/python"]  # fmt: skip
    for python in candidates:
        if not python or not Path(python).is_file():
            continue
        try:
            r = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return python
    return None


class OfficeProcess:
    """One LibreOffice kept running for one profile (one worker), restarted after a file
    that ran over its time or crashed it."""

    def __init__(self, profile: Path, python: str):
        self.profile = profile
        self.python = python
        self.proc: subprocess.Popen | None = None
        self.buffer = b""
        self.lock = threading.Lock()  # one request at a time: answers come in order

    def _start(self) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        pipe = f"magazin-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        env = {**os.environ, "HOME": str(self.profile)}
        self.proc = subprocess.Popen(
            [self.python, str(DRIVER), "soffice", self.profile.absolute().as_uri(), pipe],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True,
        )  # fmt: skip
        self.buffer = b""
        answer = self._answer(OFFICE_START_S)
        if not answer.get("ok"):
            self.stop()
            raise ConversionFailed(f"LibreOffice: {answer.get('error', 'did not start')}")

    def _answer(self, timeout: float) -> dict:
        """The driver's next line; on time-out the driver and its LibreOffice are killed."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                self.stop()
                raise ConversionFailed(f"LibreOffice: timed out after {timeout:g} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                self.stop()
                raise ConversionFailed("LibreOffice ended unexpectedly")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def convert(self, source: Path, out: Path, options: dict, timeout: float) -> None:
        with self.lock:
            self._convert(source, out, options, timeout)

    def _convert(self, source: Path, out: Path, options: dict, timeout: float) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        request = {"src": str(source.absolute()), "dst": str(out.absolute()), "options": options}
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            self.stop()
            raise ConversionFailed("LibreOffice ended unexpectedly") from None
        answer = self._answer(timeout)
        if answer.get("restart"):
            self.stop()
        if not answer.get("ok"):
            raise ConversionFailed(f"LibreOffice: {answer.get('error', 'failed')}")

    def stop(self) -> None:
        """End the driver and its LibreOffice (the whole session: nothing is left behind)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            pass
        deadline = time.monotonic() + 5  # until the session's last process is gone
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            proc.poll()
            time.sleep(0.05)
        proc.wait()
        proc.stdout.close()


_OFFICES: dict[Path, OfficeProcess] = {}
_OFFICES_LOCK = threading.Lock()


def _office(profile: Path) -> OfficeProcess | None:
    python = uno_python()
    if python is None:
        return None
    with _OFFICES_LOCK:
        key = profile.absolute()
        if key not in _OFFICES:
            _OFFICES[key] = OfficeProcess(key, python)
        return _OFFICES[key]


def stop_offices(profiles: list[Path] | None = None) -> None:
    """Stop the LibreOffice kept for these profiles (all: None), e.g. when a run ends."""
    with _OFFICES_LOCK:
        keys = [p.absolute() for p in profiles] if profiles is not None else list(_OFFICES)
        offices = [_OFFICES.pop(k) for k in keys if k in _OFFICES]
    for office in offices:
        office.stop()


atexit.register(stop_offices)


def convert(plan: Plan, source: Path, work: Path, profile: Path,
            timeout: float = TIMEOUT_S) -> Path:  # fmt: skip
    """Migrate `source` into the empty folder `work`; returns the result's path."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / ("result" + plan.suffix)
    if plan.tool == "libreoffice":
        inp = work / ("source" + source.suffix.lower())
        os.link(source, inp) if source.stat().st_dev == work.stat().st_dev else inp.write_bytes(
            source.read_bytes())  # fmt: skip
        office = _office(profile)
        if office is not None:
            office.convert(inp, out, PDFA_2B, timeout)
        else:
            _office_command(inp, out, profile, timeout)
    elif plan.tool == "ghostscript":
        _run(["gs", "-q", "-dPDFA=2", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-dNOOUTERSAVE",
              f"--permit-file-read={ICC}", "-sColorConversionStrategy=RGB",
              "-sDEVICE=pdfwrite", "-dPDFACompatibilityPolicy=1", f"-sOutputFile={out}",
              str(_pdfa_def(work)), str(source)], timeout)  # fmt: skip
    elif plan.tool == "vips":
        # every page of a multi-frame GIF or TIFF ([n=-1]); other loaders ignore no option
        pages = "[n=-1]" if source.read_bytes()[:3] == b"GIF" else ""
        _run(["vips", "copy", f"{source}{pages}", f"{out}[compression=lzw]"], timeout)
    elif plan.tool == "ffmpeg":
        _run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), "-map", "0",
              "-c:v", "ffv1", "-level", "3", "-g", "1", "-slicecrc", "1", "-c:a", "flac",
              "-c:s", "copy", str(out)], timeout)  # fmt: skip
    else:
        raise ConversionFailed(f"unknown tool {plan.tool}")
    if not out.is_file() or out.stat().st_size == 0:
        raise ConversionFailed(f"{plan.tool} produced no result")
    return out


def _office_command(source: Path, out: Path, profile: Path, timeout: float) -> None:
    """One LibreOffice for this one file (no UNO bridge here)."""
    env = {**os.environ, "HOME": str(profile)}
    options = json.dumps({k: {"type": "long", "value": str(v)} for k, v in PDFA_2B.items()})
    _run(["soffice", f"-env:UserInstallation={profile.absolute().as_uri()}", "--headless",
          "--norestore", "--convert-to", f"pdf:writer_pdf_Export:{options}", "--outdir",
          str(out.parent / "out"), str(source)], timeout, env=env)  # fmt: skip
    produced = out.parent / "out" / (source.stem + ".pdf")
    if not produced.is_file():
        raise ConversionFailed("LibreOffice produced no PDF")
    produced.rename(out)
