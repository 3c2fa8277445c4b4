#!/usr/bin/env python3
"""Scale benchmark (not part of CI): an archive grown to N small AIPs (default 100,000) by
real ingests of --batch records each (a table of one-page speeches), on SQLite and on
PostgreSQL (a throw-away server from scripts/postgres.sh). Principle 5 says the cost of an
ingest must not grow with the size of the archive: the throughput of the last batch is
compared with the first (target: within 1.2x). At each checkpoint (10,000, then every
tenfold, and N) it also times a `catalog rebuild`, a full audit of one location and the
search (p95 over common and rare words), so that the figures show how each grows — each from
a cold page cache where the benchmark may empty it (root), beside `sha512sum` over the same
files: an archive grown past the machine's memory is read from disk, and the baseline shows
what that costs the machine itself.

Usage: python bench/scale.py [--aips N] [--batch B] [--skip-postgres] [--skip-sqlite]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "Rede Haushalt Stadtrat Schule Brücke Hafen Wahl Kultur Denkmal Elbe Dom Theater "
    "Müller Schröder Neumann Fischer Eröffnung Jubiläum Partnerstadt Universität"
).split()


def _batch(folder: Path, start: int, n: int, rng: random.Random) -> tuple[Path, Path]:
    sip = folder / f"sip-{start:07d}"
    sip.mkdir(parents=True)
    rows = ["Datei;Titel;Datum"]
    for i in range(start, start + n):
        words = " ".join(rng.choice(WORDS) for _ in range(80))
        (sip / f"rede-{i:07d}.txt").write_text(f"Rede {i}\n{words}\n", "utf-8")
        rows.append(f"rede-{i:07d}.txt;Rede {i} {rng.choice(WORDS)};{1990 + i % 30}-01-01")
    table = folder / f"table-{start:07d}.csv"
    table.write_text("\n".join(rows) + "\n", "utf-8")
    return sip, table


def _drop_caches() -> bool:
    """Empty the page cache (root only), so that each timed step reads from disk as it would
    in an archive larger than the machine's memory; False where that is not allowed."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def _sha512sum(roots: list[Path]) -> float:
    """Seconds for `sha512sum` over every file below the roots (one process)."""
    t = time.perf_counter()
    find = " ".join(f"'{r}'" for r in roots)
    subprocess.run(["bash", "-c", f"find {find} -type f -print0 | xargs -0 sha512sum >/dev/null"],
                   check=True)  # fmt: skip
    return round(time.perf_counter() - t, 1)


def run(n_aips: int, batch: int, work: Path) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magazin.settings")
    import django

    django.setup()
    from magazin.access.search import extract_pending, search
    from magazin.archive import init_archive
    from magazin.catalog.audit import run_audit
    from magazin.catalog.models import Tenant, Unit
    from magazin.catalog.organisation import create_fonds, create_tenant
    from magazin.catalog.rebuild import rebuild
    from magazin.core.formats.identify import default_identifier
    from magazin.core.ingest import IngestRequest
    from magazin.core.staging import Progress
    from magazin.ingest.services import run_ingest

    home = init_archive()
    create_tenant(home, "stadt", "Stadtarchiv", "bench")
    create_fonds(home, Tenant.objects.get(slug="stadt"), "OB", "Reden", "bench")
    default_identifier(home.path)
    rng = random.Random(2026)
    batches, checkpoints = [], []
    next_check = 10_000
    done = 0
    while done < n_aips:
        n = min(batch, n_aips - done)
        sip, table = _batch(work / "sips", done, n, rng)
        t = time.perf_counter()
        r, _ = run_ingest(home, IngestRequest(sip, "stadt", "OB", table, {}, "reject", "bench"))
        secs = time.perf_counter() - t
        assert r.status == "stored", r.as_dict()["errors"][:3]
        done += n
        batches.append({"aips_before": done - n, "aips": n, "seconds": round(secs, 2),
                        "aips_per_s": round(n / secs, 1)})  # fmt: skip
        print(json.dumps({"batch": batches[-1]}), file=sys.stderr, flush=True)
        shutil.rmtree(sip)
        if done >= next_check or done == n_aips:
            next_check *= 10
            while extract_pending(home, limit=2000):
                pass
            cp = {"aips": done, "cold_cache": _drop_caches()}
            t = time.perf_counter()
            rep = run_audit(home, [], "local-1", False, "bench", Progress())
            cp["audit_s"] = round(time.perf_counter() - t, 1)
            assert not rep["failed"]
            _drop_caches()  # the baseline: the same files read and hashed by sha512sum
            cp["sha512sum_s"] = _sha512sum([home.locations[0].path / "roots"])
            units = Unit.objects.filter(tenant__slug="stadt")
            times = []
            for q in [rng.choice(WORDS) for _ in range(40)] + [f"Rede {rng.randint(0, done)}"
                                                               for _ in range(20)]:  # fmt: skip
                t = time.perf_counter()
                qs = search(units, q, None, None)
                qs.count()
                list(qs[:50])
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            cp["search_p95_ms"] = round(times[int(0.95 * (len(times) - 1))], 1)
            _drop_caches()
            t = time.perf_counter()
            rebuild(home, Progress())
            cp["rebuild_s"] = round(time.perf_counter() - t, 1)
            _drop_caches()  # the baseline: every file of every location read and hashed
            cp["sha512sum_all_s"] = _sha512sum([loc.path / "roots" for loc in home.locations])
            checkpoints.append(cp)
            print(json.dumps({"checkpoint": cp}), file=sys.stderr, flush=True)
    from django.db import connection

    first, last = batches[0]["aips_per_s"], batches[-1]["aips_per_s"]
    return {"backend": connection.vendor, "batches": batches, "checkpoints": checkpoints,
            "first_vs_last": round(first / last, 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--aips", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=5_000)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        work = Path(os.environ["MAGAZIN_HOME"]).parent
        print(json.dumps(run(args.aips, args.batch, work)))
        return
    me = [sys.executable, str(Path(__file__).resolve()), "--run", "--aips", str(args.aips),
          "--batch", str(args.batch)]  # fmt: skip
    with tempfile.TemporaryDirectory(dir=HERE / "out" if (HERE / "out").is_dir() else None) as tmp:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        if not args.skip_sqlite:
            env["MAGAZIN_HOME"] = str(Path(tmp) / "sqlite" / "home")
            _show(subprocess.run(me, env=env, stdout=subprocess.PIPE, text=True))
            shutil.rmtree(Path(tmp) / "sqlite")  # 100,000 AIPs take ~18 GB in two copies
        if not args.skip_postgres:
            env["MAGAZIN_HOME"] = str(Path(tmp) / "pg" / "home")
            script = (
                ". scripts/postgres.sh && trap pg_stop EXIT && "
                '"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres magazin && ' + " ".join(me)
            )
            _show(subprocess.run(["bash", "-c", script], env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True))  # fmt: skip


def _show(r: subprocess.CompletedProcess) -> None:
    if r.returncode != 0:
        raise SystemExit(f"benchmark run failed (exit {r.returncode})")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    b = res["batches"]
    print(f"\n{res['backend']}: {b[-1]['aips_before'] + b[-1]['aips']:,} AIPs in {len(b)} batches")
    print(f"  ingest: first batch {b[0]['aips_per_s']} AIPs/s, last {b[-1]['aips_per_s']} AIPs/s "
          f"(first/last {res['first_vs_last']}x; target <= 1.2)")  # fmt: skip
    cold = all(cp["cold_cache"] for cp in res["checkpoints"])
    print(
        f"  (each step timed {'from a cold page cache' if cold else 'with the cache as it was'};"
        " sha512sum over the same files as the baseline)"
    )
    print(f"  {'AIPs':>8} {'rebuild s':>10} {'sha512sum all s':>16} {'audit s':>8} "
          f"{'sha512sum s':>12} {'search p95 ms':>14}")  # fmt: skip
    for cp in res["checkpoints"]:
        print(f"  {cp['aips']:>8,} {cp['rebuild_s']:>10} {cp['sha512sum_all_s']:>16} "
              f"{cp['audit_s']:>8} {cp['sha512sum_s']:>12} {cp['search_p95_ms']:>14}")  # fmt: skip


if __name__ == "__main__":
    main()
