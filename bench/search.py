#!/usr/bin/env python3
"""Search benchmark: bulk-loads N units (default 100,000) with German metadata and file text
into a fresh catalog, then times what `/api/search/` does per request (count + first page of
50, best first) on SQLite FTS5 and on PostgreSQL (a throw-away server from
scripts/postgres.sh). Prints median and p95 latency per kind of query; the aim is p95 well
under 100 ms.

Usage: python bench/search.py [--units N] [--repeat R] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

WORDS = (
    "Rede Ansprache Stadtrat Haushalt Bürgermeister Straße Schule Bibliothek Brücke Hafen "
    "Wahl Verwaltung Bauantrag Grünfläche Gewerbe Kultur Denkmal Friedhof Feuerwehr Polizei "
    "Müller Schröder Weiß Jäger Köhler Groß Neumann Schulze Fischer Wagner Becker Hoffmann "
    "Eröffnung Jubiläum Gedenken Partnerstadt Elbe Dom Universität Krankenhaus Theater Messe"
).split()


def _vocabulary(rng: random.Random, n: int = 20000) -> list[str]:
    syll = ["ber", "gen", "haus", "stadt", "wer", "lin", "dorf", "mark", "feld", "bach",
            "au", "burg", "heim", "stein", "tal", "ried", "hof", "see", "wald", "berg"]  # fmt: skip
    return [
        "".join(rng.choice(syll) for _ in range(rng.randint(2, 4))).capitalize() for _ in range(n)
    ]


def run(n_units: int, repeat: int) -> dict:
    """One backend (this process's DATABASE_URL, or SQLite in a fresh MAGAZIN_HOME)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magazin.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from magazin.access.models import SearchDoc
    from magazin.access.search import FTS, fold, search
    from magazin.catalog.models import Fonds, Tenant, Unit

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(2026)
    vocab = _vocabulary(rng) + WORDS * 20
    now = django.utils.timezone.now()
    tenant = Tenant.objects.create(slug="stadt", name="Stadtarchiv", created=now)
    fonds = Fonds.objects.create(tenant=tenant, code="Reden", title="Reden", created=now)
    t0 = time.perf_counter()
    batch = 5000
    for start in range(0, n_units, batch):
        units = []
        for i in range(start, min(start + batch, n_units)):
            title = " ".join(rng.choice(vocab) for _ in range(6))
            year = rng.randint(1950, 2024)
            units.append(
                Unit(
                    tenant=tenant,
                    fonds=fonds,
                    aid=f"stadt-{i:026d}",
                    ocfl_id=f"urn:magazin:stadt:{i:026d}",
                    title=title,
                    dc={"title": [title], "date": [str(year)]},
                    extra={},
                    created=now,
                    open_from=None,
                )
            )
        with transaction.atomic():
            Unit.objects.bulk_create(units)
            if any(u.pk is None for u in units):
                ids = dict(
                    Unit.objects.filter(aid__in=[u.aid for u in units]).values_list("aid", "pk")
                )
                for u in units:
                    u.pk = ids[u.aid]
            # metadata as index_units writes it, and the file text the background step
            # would have extracted
            docs = [
                SearchDoc(
                    unit_id=u.pk,
                    tenant_id=tenant.pk,
                    metadata=fold(f"{u.aid} {u.title} {fonds.code} {u.dc['date'][0]}"),
                    content=fold(" ".join(rng.choice(vocab) for _ in range(60))),
                    extracted=True,
                )
                for u in units
            ]
            SearchDoc.objects.bulk_create(docs, batch_size=1000)
            if connection.vendor == "sqlite":
                with connection.cursor() as c:
                    c.executemany(
                        f"INSERT INTO {FTS}(rowid, body) VALUES (%s, %s)",
                        [(d.unit_id, f"{d.metadata}\n{d.content}") for d in docs],
                    )
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("ANALYZE")
    load_s = time.perf_counter() - t0
    queries = {
        "common word": lambda: rng.choice(WORDS),
        "rare word": lambda: rng.choice(vocab[:20000]),
        "prefix (4 letters)": lambda: rng.choice(vocab[:20000])[:4],
        "two words": lambda: f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
        "umlaut transcribed": lambda: rng.choice(["Mueller", "Schroeder", "Koehler", "Weiss"]),
    }
    units = Unit.objects.filter(tenant=tenant)
    out = {}
    for kind, make in queries.items():
        times, hits = [], []
        for _ in range(repeat):
            q = make()
            t = time.perf_counter()
            qs = search(units, q, None, tenant.pk)  # as for an archivist of the tenant
            n = qs.count()
            page = list(qs[:50])
            times.append((time.perf_counter() - t) * 1000)
            hits.append(n)
            assert len(page) == min(n, 50)
        times.sort()
        out[kind] = {
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
            "median_hits": int(statistics.median(hits)),
        }
    return {
        "backend": connection.vendor,
        "units": n_units,
        "load_s": round(load_s, 1),
        "queries": out,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=60)
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.run:
        print(json.dumps(run(args.units, args.repeat)))
        return
    me = [sys.executable, str(Path(__file__).resolve()), "--run", "--units", str(args.units),
          "--repeat", str(args.repeat)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["MAGAZIN_HOME"] = str(Path(tmp) / "sqlite")
        _show(subprocess.run(me, env=env, capture_output=True, text=True))
        if not args.skip_postgres:
            env["MAGAZIN_HOME"] = str(Path(tmp) / "pg")
            script = (
                ". scripts/postgres.sh && trap pg_stop EXIT && "
                '"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres magazin && ' + " ".join(me)
            )
            _show(subprocess.run(["bash", "-c", script], env=env, cwd=ROOT,
                                 capture_output=True, text=True))  # fmt: skip


def _show(r: subprocess.CompletedProcess) -> None:
    if r.returncode != 0:
        print(r.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"benchmark run failed (exit {r.returncode})")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"\n{res['backend']}: {res['units']:,} units loaded in {res['load_s']} s", flush=True)
    print(f"  {'query':22} {'median ms':>10} {'p95 ms':>8} {'hits':>8}")
    for kind, q in res["queries"].items():
        print(f"  {kind:22} {q['median_ms']:>10} {q['p95_ms']:>8} {q['median_hits']:>8}")


if __name__ == "__main__":
    main()
