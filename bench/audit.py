#!/usr/bin/env python3
"""Audit benchmark: a full fixity audit of one location against baselines measured in the
same run, on the same files, with a warm page cache:

- `sha512sum` over every file of the location (one process per ~10,000 files, via xargs);
- for a large file, a raw read + SHA-512 in Python (1 MiB reads), the bare minimum.

Targets (issue 12): the audit of the scenario within 1.5x of sha512sum; for large files at
least 0.9 of the raw read + SHA-512 speed. The archive is built once (the scenario corpus
of 2,484 files with its table, plus one large file) and audited --repeat times; the best
run counts.

Usage: python bench/audit.py [--files N] [--large-mb MB] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import raw_sha512_mb_s  # noqa: E402


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _warm(files: list[Path]) -> int:
    n = 0
    for f in files:
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                n += len(chunk)
    return n


def _sha512sum(files: list[Path]) -> float:
    t = time.perf_counter()
    subprocess.run(["xargs", "-0", "-n", "10000", "sha512sum"],
                   input=b"\0".join(str(f).encode() for f in files),
                   stdout=subprocess.DEVNULL, check=True)  # fmt: skip
    return time.perf_counter() - t


def _raw(path: Path) -> float:
    t = time.perf_counter()
    h = hashlib.sha512()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2484)
    ap.add_argument("--large-mb", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "audit")
    args = ap.parse_args()

    from corpus import make_corpus

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    sip, table = make_corpus(args.out / "corpus", args.files)
    os.environ["MAGAZIN_HOME"] = str(args.out / "home")
    os.environ["DJANGO_SETTINGS_MODULE"] = "magazin.settings"
    import django

    django.setup()
    from magazin.archive import init_archive
    from magazin.catalog.audit import run_audit
    from magazin.catalog.models import Tenant, Unit
    from magazin.catalog.organisation import create_fonds, create_tenant
    from magazin.core.ingest import IngestRequest
    from magazin.core.staging import Progress
    from magazin.ingest.services import run_ingest

    home = init_archive()
    create_tenant(home, "stadt", "Stadtarchiv", "bench")
    create_fonds(home, Tenant.objects.get(slug="stadt"), "OB", "Reden", "bench")
    r, _ = run_ingest(home, IngestRequest(sip, "stadt", "OB", table, {}, "reject", "bench"))
    assert r.status == "stored", r.as_dict()["errors"][:3]
    large_sip = args.out / "large"
    large_sip.mkdir()
    big = large_sip / "film.bin"
    with open(big, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(args.large_mb):
            f.write(block)
    r, _ = run_ingest(home, IngestRequest(large_sip, "stadt", "OB", None, {}, "reject", "bench"))
    large_aid = r.aips[0].aid
    big.unlink()
    root = home.location("local-1").path / "roots" / "stadt"
    large_obj = next(
        d for d in root.rglob("0=ocfl_object_1.1")
        if d.parent.name.endswith(large_aid.split("-", 1)[1])
    ).parent  # fmt: skip
    large_file = next(large_obj.rglob("film.bin"))
    small = [f for f in _files(root) if not str(f).startswith(str(large_obj))]
    small_aids = list(
        Unit.objects.filter(parent=None).exclude(aid=large_aid).values_list("aid", flat=True)
    )
    nbytes = _warm(small)
    _warm([large_file])
    results: dict[str, list[float]] = {"audit": [], "sha512sum": [], "audit-large": [],
                                       "raw-large": []}  # fmt: skip
    for _ in range(args.repeat):
        t = time.perf_counter()
        rep = run_audit(home, small_aids, "local-1", False, "bench", Progress())
        results["audit"].append(time.perf_counter() - t)
        assert rep["failed"] == [] and rep["checked"] == len(small_aids), rep["checked"]
        results["sha512sum"].append(_sha512sum(small))
        t = time.perf_counter()
        rep = run_audit(home, [large_aid], "local-1", False, "bench", Progress())
        results["audit-large"].append(time.perf_counter() - t)
        results["raw-large"].append(_raw(large_file))
    best = {k: min(v) for k, v in results.items()}
    mb = nbytes / 1e6
    large_mb = large_file.stat().st_size / 1e6
    print(f"raw sha512 of this machine: {raw_sha512_mb_s():.0f} MB/s")
    print(f"scenario: {len(small_aids)} AIPs, {len(small)} files, {mb:.0f} MB in local-1")
    print("| case | seconds | MB/s | ratio |")
    print("|---|---:|---:|---:|")
    print(
        f"| sha512sum, every file of the location | {best['sha512sum']:.2f} | "
        f"{mb / best['sha512sum']:.0f} | 1.00 |"
    )
    print(
        f"| **magazin audit --location local-1** | **{best['audit']:.2f}** | "
        f"{mb / best['audit']:.0f} | **{best['audit'] / best['sha512sum']:.2f}x the time** |"
    )
    print(
        f"| raw read + SHA-512, {large_mb:.0f} MB file | {best['raw-large']:.2f} | "
        f"{large_mb / best['raw-large']:.0f} | 1.00 |"
    )
    print(f"| **audit of the AIP holding it** | **{best['audit-large']:.2f}** | "
          f"{large_mb / best['audit-large']:.0f} | "
          f"**{best['raw-large'] / best['audit-large']:.2f} of the speed** |")  # fmt: skip
    print("all runs:", {k: [round(x, 2) for x in v] for k, v in results.items()})


if __name__ == "__main__":
    main()
