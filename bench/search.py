#!/usr/bin/env python3
"""Search benchmark: bulk-loads N units (default 100,000; up to 1,000,000) with German
metadata, file text, formats, dates and closure periods into a fresh catalog, then times what
the search page and `/api/search/` do for a first page (count, the page of 25 best first, the
facets) for an archivist (the whole tenant) and for a reader (the open units), on the
embedded default (SQLite) and on PostgreSQL (a throw-away server from scripts/postgres.sh) in
one run, both searching the tantivy index built from the catalog. Prints median and p95
latency per kind of query and searcher, the time the tantivy index took to build from the
loaded catalog, and the index's size on disk; the aim is p95 under 100 ms.

Usage: python bench/search.py [--units N] [--repeat R] [--skip-postgres | --skip-sqlite]
"""

from __future__ import annotations

import argparse
import hashlib
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


PUIDS = [
    ("fmt/276", "application/pdf"),
    ("fmt/412", "application/vnd.openxmlformats"),
    ("x-fmt/111", "text/plain"),
    ("fmt/43", "image/jpeg"),
    ("fmt/353", "image/tiff"),
]


def _load(n_units: int, rng: random.Random, vocab: list[str]):
    """Units of one tenant in four fonds, each with a representation of one to three files
    (five formats), a date range over 75 years, and a closure period over for 70 % of them
    (a few hundred released or granted besides); their search documents as index_units and
    the background extraction write them."""
    import datetime as dt

    import django
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from magazin.access.models import Grant, Membership, Release, SearchDoc
    from magazin.access.search import fold
    from magazin.catalog.models import File, Fonds, Representation, Tenant, Unit

    now = django.utils.timezone.now()
    today = dt.date.today()
    tenant = Tenant.objects.create(slug="stadt", name="Stadtarchiv", created=now)
    fonds = [Fonds.objects.create(tenant=tenant, code=c, title=c, created=now)
             for c in ("OB-Reden", "Rechtsamt", "Bauamt", "Fotos")]  # fmt: skip
    users = get_user_model().objects
    archivist = users.create(username="archivarin")
    reader = users.create(username="leser")
    Membership.objects.create(user=archivist, tenant=tenant, role=Membership.ARCHIVIST)
    Membership.objects.create(user=reader, tenant=tenant, role=Membership.READER)
    batch = 5000
    for start in range(0, n_units, batch):
        units = []
        for i in range(start, min(start + batch, n_units)):
            title = " ".join(rng.choice(vocab) for _ in range(6))
            year = rng.randint(1950, 2024)
            f = fonds[i % len(fonds)]
            is_open = rng.random() < 0.7
            kinds = [rng.choice(PUIDS) for _ in range(rng.randint(1, 3))]
            units.append(Unit(
                tenant=tenant, fonds=f, aid=f"stadt-{i:026d}",
                ocfl_id=f"urn:magazin:stadt:{i:026d}", title=title,
                dc={"title": [title], "date": [str(year)]}, extra={}, created=now,
                open_from=today - dt.timedelta(days=100) if is_open
                else today + dt.timedelta(days=365 * 10),
                year_from=year, year_to=year, date_key=f"{year}-01-01",
                signature=f"{f.code}-{i}", signature_key=f"{f.code}-{i:012d}",
                formats=" ".join(sorted({puid for puid, _m in kinds}))))  # fmt: skip
            units[-1].kinds = kinds
        with transaction.atomic():
            Unit.objects.bulk_create(units)
            if any(u.pk is None for u in units):
                ids = dict(
                    Unit.objects.filter(aid__in=[u.aid for u in units]).values_list("aid", "pk")
                )
                for u in units:
                    u.pk = ids[u.aid]
            reps = [Representation(unit_id=u.pk, name="original") for u in units]
            Representation.objects.bulk_create(reps)
            if any(r.pk is None for r in reps):
                ids = dict(Representation.objects.filter(unit_id__in=[u.pk for u in units])
                           .values_list("unit_id", "pk"))  # fmt: skip
                for r in reps:
                    r.pk = ids[r.unit_id]
            files = [File(representation_id=r.pk, path=f"datei-{k}.bin", size=1,
                          sha512="0" * 128, puid=puid, mime=mime)
                     for u, r in zip(units, reps, strict=True)
                     for k, (puid, mime) in enumerate(u.kinds)]  # fmt: skip
            File.objects.bulk_create(files, batch_size=5000)
            # metadata as index_units writes it, and the file text the background step
            # would have extracted
            docs = [
                SearchDoc(
                    unit_id=u.pk,
                    tenant_id=tenant.pk,
                    metadata=fold(f"{u.aid} {u.title} {u.fonds.code} {u.dc['date'][0]}"),
                    content=fold(" ".join(rng.choice(vocab) for _ in range(60))),
                    extracted=True,
                )
                for u in units
            ]
            SearchDoc.objects.bulk_create(docs, batch_size=5000)
            closed = [u for u in units if u.open_from > today]
            for u in closed[:20]:  # a few opened early: released, or granted to the reader
                Release.objects.create(unit=u, by="archivarin", reason="Freigabe", created=now)
            for u in closed[20:30]:
                Grant.objects.create(unit=u, reader=reader, by="archivarin", reason="Antrag",
                                     purpose="Forschung", expires=today + dt.timedelta(days=90),
                                     created=now)  # fmt: skip
    # statistics, as autovacuum keeps them
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return tenant, archivist, reader


def _index_size() -> int:
    """Bytes on disk of the full-text index (the tantivy index in MAGAZIN_HOME/search)."""
    from magazin.core.config import home_path

    return sum(p.stat().st_size for p in (home_path() / "search").rglob("*") if p.is_file())


def measure(repeat: int) -> dict:
    """p50/p95 per kind of query, for the archivist and for the reader of a loaded catalog."""
    from django.contrib.auth import get_user_model

    from magazin.access.scope import Scope
    from magazin.access.search import facets, search

    rng = random.Random(2026)
    vocab = _vocabulary(rng) + WORDS * 20
    queries = {
        "common word": lambda: rng.choice(WORDS),
        "rare word": lambda: rng.choice(vocab[:20000]),
        "prefix (4 letters)": lambda: rng.choice(vocab[:20000])[:4],
        "two words": lambda: f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
        "umlaut transcribed": lambda: rng.choice(["Mueller", "Schroeder", "Koehler", "Weiss"]),
    }
    out = {}
    for who, name in (("archivist", "archivarin"), ("reader", "leser")):
        scope = Scope.of(get_user_model().objects.get(username=name))
        for kind, make in queries.items():
            times, hits = [], []
            for _ in range(repeat):
                q = make()
                t = time.perf_counter()
                # what the search page and /api/search/ do for the first page: count,
                # the page best first, the facets
                found = search(scope.units(), q, None, scope.whole_tenant, scope.reader)
                n = found.count()
                page = list(found[:25])
                facets(found)
                times.append((time.perf_counter() - t) * 1000)
                hits.append(n)
                assert len(page) == min(n, 25)
            times.sort()
            out[f"{kind}, {who}"] = {
                "median_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
                "median_hits": int(statistics.median(hits)),
            }
    return out


def sha512_mb_s() -> float:
    """The baseline beside the figures: this machine's speed right now (SHA-512 of 256 MB in
    memory, best of three). Shared virtual machines vary by half from hour to hour."""
    data = bytes(64 << 20)
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        h = hashlib.sha512()
        for _ in range(4):
            h.update(data)
        best = max(best, 256 / (time.perf_counter() - t))
    return round(best)


def run(n_units: int, repeat: int) -> dict:
    """One backend (this process's DATABASE_URL, or SQLite in a fresh MAGAZIN_HOME)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magazin.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    rng = random.Random(2026)
    vocab = _vocabulary(rng) + WORDS * 20
    from magazin.access.search import catch_up

    t0 = time.perf_counter()
    _load(n_units, rng, vocab)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    catch_up(prune=True)  # the tantivy index built from the catalog (as `magazin index`)
    index_s = time.perf_counter() - t0
    return {
        "backend": connection.vendor,
        "units": n_units,
        "load_s": round(load_s, 1),
        "index_s": round(index_s, 1),
        "index_mb": round(_index_size() / 1e6, 1),
        "sha512_mb_s_before": sha512_mb_s(),
        "queries": measure(repeat),
        "sha512_mb_s_after": sha512_mb_s(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=60)
    skip = ap.add_mutually_exclusive_group()
    skip.add_argument("--skip-postgres", action="store_true")
    skip.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--pg-shared-buffers", default="4GB", help="PostgreSQL's shared_buffers")
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
        if not args.skip_sqlite:
            env["MAGAZIN_HOME"] = str(Path(tmp) / "sqlite")
            (Path(tmp) / "sqlite").mkdir()
            _show(subprocess.run(me, env=env, capture_output=True, text=True))
        if not args.skip_postgres:
            env["MAGAZIN_HOME"] = str(Path(tmp) / "pg")
            # a server sized for its data, as one is in production (PostgreSQL's docs
            # advise a quarter of the memory for shared_buffers; the default is 128 MB)
            env["MAGAZIN_PGOPTS"] = f"-c shared_buffers={args.pg_shared_buffers}"
            (Path(tmp) / "pg").mkdir()
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
    built = f" (the tantivy index built in {res['index_s']} s)" if res["index_s"] >= 0.1 else ""
    print(f"\n{res['backend']}: {res['units']:,} units loaded in {res['load_s']} s{built}; "
          f"full-text index {res['index_mb']} MB; baseline SHA-512 "
          f"{res['sha512_mb_s_before']}/{res['sha512_mb_s_after']} MB/s before/after",
          flush=True)  # fmt: skip
    print(f"  {'query, searcher':34} {'median ms':>10} {'p95 ms':>8} {'hits':>8}")
    for kind, q in res["queries"].items():
        print(f"  {kind:34} {q['median_ms']:>10} {q['p95_ms']:>8} {q['median_hits']:>8}")


if __name__ == "__main__":
    main()
