#!/usr/bin/env python3
"""Preservation benchmark (issue 13): on the scenario corpus, DOCX/ODT → PDF/A-2b
(LibreOffice) and PDF → PDF/A-2b (Ghostscript) in files per minute with 1 and 2 worker
processes - each migration as a plan run does it: convert, validate the result, run the
plan's checks - and validation of every corpus file in files per second (the validator
pool, 2 workers), beside the ingest figures of bench/ingest.py where they exist.

Usage: python bench/preserve.py [--sample N] [--files N]
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _migrate_all(plan, files: list[Path], workers: int, work: Path) -> tuple[float, int]:
    """Convert, validate and check each file; returns (seconds, files that passed)."""
    from magazin.core.formats.validators import ValidatorPolicy
    from magazin.core.formats.validators.pool import ValidatorPool
    from magazin.core.preservation.convert import convert, stop_offices
    from magazin.core.preservation.migrate import check_result

    profiles = [work / f"profile-{i}" for i in range(workers)]
    free: queue.SimpleQueue[Path] = queue.SimpleQueue()  # one LibreOffice per worker at a time
    for profile in profiles:
        free.put(profile)
    passed = 0

    def one(args) -> bool:
        i, src = args
        w = work / f"f{i}"
        profile = free.get()
        try:
            result = convert(plan, src, w, profile)
        finally:
            free.put(profile)
        _validation, reason = check_result(plan, src, src.name, None, None, result, w, pool)
        shutil.rmtree(w, ignore_errors=True)
        return reason is None

    with ValidatorPool(ValidatorPolicy(), workers=workers) as pool:
        # start-up (a LibreOffice profile, the validator processes) is not per-file work
        warm = [files[0]] * workers
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(one, enumerate(warm)))
        t = time.perf_counter()
        try:
            with ThreadPoolExecutor(workers) as ex:
                passed = sum(ex.map(one, enumerate(files)))
        finally:
            stop_offices(profiles)  # LibreOffice is kept running per profile
        return time.perf_counter() - t, passed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=int, default=30, help="files per migration case")
    ap.add_argument("--files", type=int, default=2484, help="scenario corpus size")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    a = ap.parse_args()
    from corpus import make_corpus

    from magazin.core.formats.identify import default_identifier
    from magazin.core.formats.validators import ValidatorPolicy
    from magazin.core.formats.validators.pool import ValidatorPool
    from magazin.core.preservation.plans import PLANS, available

    a.out.mkdir(parents=True, exist_ok=True)
    sip, _table = make_corpus(a.out / "corpus", a.files)
    files = sorted(p for p in sip.rglob("*") if p.is_file())
    print(f"Corpus: {len(files)} files")
    results: dict = {}
    # validation of every file, as at ingest (identified first, untimed)
    home = Path(tempfile.mkdtemp(prefix="preserve-home-"))
    ident = default_identifier(home)
    ids = [ident.identify(f) for f in files]
    for f in files:
        f.read_bytes()  # warm page cache: what is measured is validation, not the disk
    with ValidatorPool(ValidatorPolicy(), workers=2) as pool:
        pool.validate(str(files[0]), ids[0].puid, ids[0].mime)
        t = time.perf_counter()
        done = pool.validate_many([(str(f), i.puid, i.mime)
                                   for f, i in zip(files, ids, strict=True)])  # fmt: skip
        secs = time.perf_counter() - t
    outcomes = dict(Counter(v.outcome for v in done))
    rate = round(len(files) / secs, 1)
    results["validation"] = {"files": len(files), "seconds": round(secs, 2),
                             "files_per_s": rate, "outcomes": outcomes}  # fmt: skip
    print(f"Validation, 2 worker processes: {len(files)} files in {secs:.1f} s = "
          f"{len(files) / secs:.0f} files/s  {outcomes}")  # fmt: skip
    cases = {
        "office-to-pdfa": [f for f in files if f.suffix in (".docx", ".odt")][: a.sample],
        "pdf-to-pdfa": [f for f in files if f.suffix == ".pdf"][: a.sample],
    }
    for name, sample in cases.items():
        plan = PLANS[name]
        if not available(plan):
            print(f"{name}: {plan.tool} not installed, skipped")
            continue
        for workers in (1, 2):
            work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=a.out))
            try:
                secs, ok = _migrate_all(plan, sample, workers, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            per_min = 60 * len(sample) / secs
            results[f"{name}-{workers}"] = {"files": len(sample), "passed": ok,
                                            "seconds": round(secs, 2),
                                            "files_per_min": round(per_min, 1)}  # fmt: skip
            print(f"{name}, {workers} worker(s): {len(sample)} files in {secs:.1f} s = "
                  f"{per_min:.0f} files/min ({ok} passed every check)")  # fmt: skip
    # the whole corpus migrated at these rates, 2 workers: beside a3m's normalisation of the
    # same scenario (issue 13: 783.7 s with normalisation, 268.6 s without)
    whole = 0.0
    for name, kinds in (("office-to-pdfa", (".docx", ".odt")), ("pdf-to-pdfa", (".pdf",))):
        r = results.get(f"{name}-2")
        if r:
            whole += 60 * sum(1 for f in files if f.suffix in kinds) / r["files_per_min"]
    if whole:
        results["whole_corpus_2_workers_s"] = round(whole)
        print(
            f"every DOCX/ODT/PDF of the corpus at these rates, 2 workers: about {whole:.0f} s "
            "(a3m's normalisation of the scenario: 783.7 - 268.6 = 515 s)"
        )
    ingest = a.out / "results.json"
    if ingest.is_file():
        r = json.loads(ingest.read_text())
        for row in r.get("scenario", []):
            print(f"ingest (bench/ingest.py) {row['case']:28} {row['files_per_s']:8.1f} files/s")
    (a.out / "preserve.json").write_text(json.dumps(results, indent=2))
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
