#!/usr/bin/env python3
"""Identification benchmark: Magazin's PRONOM engine against fido 1.6.1 and siegfried
(pygfried), in one process, one file after another, on the same files in the same run:

- the scenario corpus (2,484 generated speech manuscripts: PDF, DOCX, ODT, TXT);
- the mixed real files of ../shared/fixtures/formats (if present), many times over.

All files are read once before timing (warm page cache: what is measured is identification,
not the disk). Each case runs --repeat times, interleaved; the best run counts. The raw
sha512 speed of this machine, measured in the same run, is printed for scale, and the answers
are compared (same PUID, or how they differ).

Usage: python bench/identify.py [--files N] [--repeat N] [--signatures DROID.xml CONTAINER.xml]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import raw_sha512_mb_s  # noqa: E402

FIXTURES = Path(os.environ.get("MAGAZIN_FIXTURES") or HERE.parent.parent / "shared" / "fixtures")
OOXML = {
    "fido-fmt/189.word": "fmt/412",
    "fido-fmt/189.xl": "fmt/214",
    "fido-fmt/189.ppt": "fmt/215",
}


def engines(signatures: list[Path] | None) -> dict:
    """name -> (callable path -> puid or None, description)"""
    from magazin.core.formats import literals
    from magazin.core.formats.identify import FidoIdentifier, PronomIdentifier
    from magazin.core.formats.library import fido_signature_files

    out = {}
    fido = FidoIdentifier()
    out["fido"] = (lambda p: fido.identify(p).puid, fido.agent)
    try:
        import pygfried

        def sf(p):
            r = pygfried.identify(str(p))
            return None if r in (None, "UNKNOWN") else r

        out["siegfried"] = (sf, f"siegfried {pygfried.version()} via pygfried (default.sig)")
    except ImportError:
        print("pygfried not installed: siegfried is left out (pip install pygfried)")
    own = PronomIdentifier(*fido_signature_files())
    out["magazin"] = (lambda p: own.identify(p).puid, f"{own.agent} [{literals.BACKEND}]")
    files = signatures
    if files is None and (FIXTURES / "pronom").is_dir():
        files = [
            FIXTURES / "pronom" / "DROID_SignatureFile_V122.xml",
            FIXTURES / "pronom" / "container-signature-20260119.xml",
        ]
    if files:
        new = PronomIdentifier(*files)
        out["magazin-v122"] = (lambda p: new.identify(p).puid, new.agent)
    return out


def measure(name: str, fn, files: list[Path]) -> tuple[float, list]:
    t = time.perf_counter()
    answers = [fn(f) for f in files]
    return time.perf_counter() - t, answers


def run(title: str, files: list[Path], eng: dict, repeat: int) -> dict:
    nbytes = sum(f.stat().st_size for f in files)
    for f in files:  # warm the page cache
        with open(f, "rb") as fh:
            while fh.read(1 << 20):
                pass
    best: dict[str, float] = {}
    answers: dict[str, list] = {}
    for _ in range(repeat):
        for name, (fn, _desc) in eng.items():
            secs, ans = measure(name, fn, files)
            best[name] = min(best.get(name, secs), secs)
            answers[name] = ans
    print(f"\n{title}: {len(files)} files, {nbytes / 1e6:.1f} MB")
    print(f"  {'engine':14} {'seconds':>8} {'files/s':>9} {'MB/s':>8} {'vs fido':>8} {'vs sf':>7}")
    rows = []
    for name in eng:
        s = best[name]
        row = {
            "engine": name,
            "seconds": round(s, 3),
            "files_per_s": round(len(files) / s, 1),
            "mb_per_s": round(nbytes / 1e6 / s, 1),
            "vs_fido": round(best["fido"] / s, 2),
            "vs_siegfried": round(best["siegfried"] / s, 2) if "siegfried" in best else None,
        }
        rows.append(row)
        vs_sf = f"{row['vs_siegfried']:6.2f}x" if row["vs_siegfried"] else "      -"
        print(
            f"  {name:14} {s:8.2f} {row['files_per_s']:9.0f} {row['mb_per_s']:8.1f} "
            f"{row['vs_fido']:7.2f}x {vs_sf}"
        )
    diffs = _differences(files, answers)
    return {"files": len(files), "bytes": nbytes, "rows": rows, "differences": diffs}


def _differences(files: list[Path], answers: dict[str, list]) -> dict:
    """How often each engine's PUID differs from magazin's, by (magazin, other) pair."""
    out = {}
    ref = answers["magazin"]
    for name, ans in answers.items():
        if name == "magazin":
            continue
        pairs = collections.Counter()
        for a, b in zip(ref, ans, strict=True):
            b = OOXML.get(b, b)
            if a != b:
                pairs[(a, b)] += 1
        out[name] = {f"{a} / {b}": n for (a, b), n in pairs.most_common()}
        same = len(files) - sum(pairs.values())
        detail = ", ".join(f"{k}: {v}" for k, v in out[name].items()) or "-"
        print(f"  magazin and {name}: same PUID for {same} of {len(files)}; differ: {detail}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=2484)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--real-rounds", type=int, default=10, help="passes over the real files")
    ap.add_argument("--signatures", nargs=2, type=Path, metavar=("DROID", "CONTAINER"))
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    from corpus import make_corpus

    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    sha = raw_sha512_mb_s()
    print(f"Raw sha512 speed: {sha:.0f} MB/s")
    eng = engines(a.signatures)
    for name, (_fn, desc) in eng.items():
        print(f"  {name:14} {desc}")
    sip, _table = make_corpus(a.out / "corpus", a.files)
    corpus = sorted(p for p in sip.rglob("*") if p.is_file())
    results = {"raw_sha512_mb_s": round(sha, 1)}
    results["scenario"] = run("Scenario corpus", corpus, eng, a.repeat)
    real_dir = FIXTURES / "formats"
    if real_dir.is_dir():
        real = sorted(
            p for p in real_dir.rglob("*") if p.is_file() and p.suffix not in (".csv", ".md")
        )
        real = [p for p in real if "licenses" not in p.parts]
        results["real"] = run(
            f"Real files of shared/fixtures/formats x{a.real_rounds}",
            real * a.real_rounds,
            eng,
            a.repeat,
        )
    else:
        print(f"\n{real_dir} not found: real files left out")
    own = next(r for r in results["scenario"]["rows"] if r["engine"] == "magazin")
    print(
        f"\nmagazin on the scenario corpus: {own['files_per_s']:.0f} files/s, "
        f"{own['vs_fido']:.1f}x fido (target >= 10x), "
        + (f"{own['vs_siegfried']:.1f}x siegfried, " if own["vs_siegfried"] else "")
        + f"{own['mb_per_s'] / sha:.2f} of raw sha512 MB/s"
    )
    if a.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
