#!/usr/bin/env python3
"""Storage benchmark (issue 12), against a real S3 server (Ceph's RADOS Gateway from
scripts/ceph.sh; `make bench` starts it, or set MAGAZIN_S3_ENDPOINT and the AWS_* keys):

- the scenario (2,484 files with their table) ingested with two filesystem copies, and with
  one filesystem + one S3 copy;
- one large file (default 5 GiB) ingested into filesystem + S3: MB/s and the peak memory of
  the process (the upload is streamed in parts: it must stay under 300 MB);
- `location replicate` of the scenario archive (two filesystem copies) to a new S3 location.

Each case runs in its own process (its own peak RSS) on a fresh archive.
Usage: python bench/storage.py [--files N] [--large-mb MB]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import raw_sha512_mb_s  # noqa: E402


def _archive(work: Path, with_s3: bool):
    os.environ["MAGAZIN_HOME"] = str(work / "home")
    os.environ["DJANGO_SETTINGS_MODULE"] = "magazin.settings"
    import django

    django.setup()
    from magazin.archive import init_archive
    from magazin.catalog.models import Tenant
    from magazin.catalog.organisation import create_fonds, create_tenant

    home = init_archive()
    if with_s3:
        _add_s3(home.path, replicate=True)
        from magazin.core.config import load_home

        home = load_home(home.path)
    create_tenant(home, "stadt", "Stadtarchiv", "bench")
    create_fonds(home, Tenant.objects.get(slug="stadt"), "OB", "Reden", "bench")
    return home


def _add_s3(home_path: Path, replicate: bool) -> None:
    toml = home_path / "magazin.toml"
    text = toml.read_text()
    entry = (
        '\n[[locations]]\nname = "ceph-1"\ntype = "s3"\n'
        f'endpoint = "{os.environ["MAGAZIN_S3_ENDPOINT"]}"\n'
        f'bucket = "bench-{uuid.uuid4().hex[:12]}"\nprefix = "archiv"\n'
    )
    text = text.replace("[replication]", entry + "\n[replication]", 1)
    if replicate:
        text = text.replace(
            'locations = ["local-1", "local-2"]', 'locations = ["local-1", "ceph-1"]'
        )
    toml.write_text(text)


def _ingest(home, sip: Path, table: Path | None) -> int:
    from magazin.core.formats.identify import default_identifier
    from magazin.core.ingest import IngestRequest
    from magazin.ingest.services import run_ingest

    default_identifier(home.path)  # loading signatures is start-up, not per-ingest work
    r, _ = run_ingest(home, IngestRequest(sip, "stadt", "OB", table, {}, "reject", "bench"))
    assert r.status == "stored", r.as_dict()["errors"][:3]
    return len(r.aips)


def case(name: str, sip: Path, table: Path | None, work: Path) -> dict:
    if name in ("scenario-fs-fs", "scenario-fs-s3", "large-fs-s3"):
        home = _archive(work, with_s3=name != "scenario-fs-fs")
        t = time.perf_counter()
        n = _ingest(home, sip, table)
        return {"seconds": time.perf_counter() - t, "aips": n}
    if name == "replicate-to-s3":
        home = _archive(work, with_s3=False)
        _ingest(home, sip, table)
        _add_s3(home.path, replicate=False)
        text = (home.path / "magazin.toml").read_text()
        (home.path / "magazin.toml").write_text(
            text.replace('locations = ["local-1", "local-2"]',
                         'locations = ["local-1", "local-2", "ceph-1"]')
        )  # fmt: skip
        from magazin.catalog.locations import location_replicate
        from magazin.core.config import load_home
        from magazin.core.staging import Progress

        home = load_home(home.path)
        t = time.perf_counter()
        r = location_replicate(home, "ceph-1", "bench", Progress())
        assert not r["failed"], r["failed"][:3]
        return {"seconds": time.perf_counter() - t, "aips": r["copied"]}
    raise SystemExit(f"no case {name}")


def run_case(name: str, sip: Path, table: Path | None, out: Path) -> dict:
    os.sync()
    work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=out))
    try:
        cmd = [sys.executable, __file__, "--case", name, "--sip", str(sip), "--work", str(work)]
        if table:
            cmd += ["--table", str(table)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"case {name} failed:\n{r.stderr[-3000:]}")
        return json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2484)
    ap.add_argument("--large-mb", type=int, default=5120)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "storage")
    ap.add_argument("--case")
    ap.add_argument("--sip", type=Path)
    ap.add_argument("--table", type=Path)
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    if args.case:  # one case, in this process
        res = case(args.case, args.sip, args.table, args.work)
        res["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res))
        return
    if not os.environ.get("MAGAZIN_S3_ENDPOINT"):
        raise SystemExit(
            "no S3 server: run `make bench` (it starts Ceph's RADOS Gateway) or "
            "set MAGAZIN_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"
        )
    from corpus import make_corpus

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    sip, table = make_corpus(args.out / "corpus", args.files)
    nbytes = sum(p.stat().st_size for p in sip.rglob("*") if p.is_file())
    large = args.out / "large"
    large.mkdir()
    with open(large / "film.bin", "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(args.large_mb):
            f.write(block)
    rows = []
    for name, s, t, size in (
        ("scenario-fs-fs", sip, table, nbytes),
        ("scenario-fs-s3", sip, table, nbytes),
        ("replicate-to-s3", sip, table, nbytes),
        ("large-fs-s3", large, None, args.large_mb * 1024 * 1024),
    ):
        r = run_case(name, s, t, args.out)
        rows.append((name, r, size))
    print(f"raw sha512 of this machine: {raw_sha512_mb_s():.0f} MB/s")
    print(f"scenario: {args.files} files, {nbytes / 1e6:.0f} MB; large file: {args.large_mb} MiB")
    print("| case | seconds | MB/s | objects | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for name, r, size in rows:
        print(f"| {name} | {r['seconds']:.2f} | {size / 1e6 / r['seconds']:.1f} | {r['aips']} | "
              f"{r['rss_mb']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
