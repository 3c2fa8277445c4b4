"""The `magazin` command: the archive's operations for archivists and operators.

Exit codes: 0 success (a duplicate too), 1 rejected input or failed check, 2 usage error.
Every reporting command accepts --json."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import logging
import os
import sys
from pathlib import Path

from magazin.core.storage.ocfl import OcflError
from magazin.errors import Failure
from magazin.interop.vocabulary import ARCHIVE_TYPES

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Wrong or missing arguments: exit code 2."""


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "magazin.settings")
    import django

    django.setup()


def _user(args) -> str:
    return getattr(args, "user", None) or os.environ.get("MAGAZIN_USER") or getpass.getuser()


def _out(args, data, human) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        human(data)


class _IsoTime(logging.Formatter):
    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        t = dt.datetime.fromtimestamp(record.created).astimezone()
        return t.isoformat(timespec="milliseconds")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (not when it was made)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _log_to_stderr() -> None:
    """The long-running commands (serve, worker) say what they do, with the time."""
    logger = logging.getLogger("magazin")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(_IsoTime("%(asctime)s %(name)s %(levelname)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # waitress configures the root logger too


def _list_out(args, data: list, row, empty: str) -> None:
    """A list: one line per item, or a sentence saying that there is none."""
    _out(args, data, lambda d: print("\n".join(row(x) for x in d) if d else empty))


class TqdmProgress:
    """A terminal progress bar (stderr), only where a person is watching."""

    def __init__(self):
        import threading

        self.bar = None
        self.lock = threading.Lock()  # the ingest advances it from several threads

    def start(self, total, what):
        from tqdm import tqdm

        unit = "B" if what in ("copy", "verify", "audit") else "it"
        self.bar = tqdm(
            total=total, desc=what, unit=unit, unit_scale=True, leave=False, file=sys.stderr
        )

    def advance(self, n):
        with self.lock:
            if self.bar is not None:
                self.bar.update(n)

    def done(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress(args):
    from magazin.core.staging import Progress

    if getattr(args, "json", False) or not sys.stderr.isatty():
        return Progress()
    return TqdmProgress()


def _one_tenant(slug):
    from magazin.catalog.models import Tenant

    if slug:
        try:
            return Tenant.objects.get(slug=slug)
        except Tenant.DoesNotExist:
            raise Failure(f"no tenant {slug!r}") from None
    ts = list(Tenant.objects.all()[:2])
    if len(ts) != 1:
        raise UsageError(
            "--tenant is required (there is "
            + ("no tenant yet" if not ts else "more than one tenant")
            + ")"
        )
    return ts[0]


def _one_fonds(tenant, code):
    from magazin.catalog.models import Fonds

    if code:
        try:
            return Fonds.objects.get(tenant=tenant, code=code)
        except Fonds.DoesNotExist:
            raise Failure(f"no fonds {code!r} in tenant {tenant.slug}") from None
    fs = list(Fonds.objects.filter(tenant=tenant)[:2])
    if len(fs) != 1:
        raise UsageError(
            "--fonds is required (tenant "
            + tenant.slug
            + " has "
            + ("no fonds yet" if not fs else "more than one fonds")
            + ")"
        )
    return fs[0]


# -- commands -----------------------------------------------------------------------------


def cmd_init(args, home):
    data = {
        "home": str(home.path),
        "locations": [{"name": c.name, "path": str(c.path)} for c in home.locations],
        "replication": home.replication,
    }
    _out(
        args,
        data,
        lambda d: print(
            f"Magazin data folder ready: {d['home']}\n"
            f"Storage locations: " + ", ".join(f"{x['name']} ({x['path']})" for x in d["locations"])
        ),
    )
    return EXIT_OK


def _tenant_dict(t) -> dict:
    return {"slug": t.slug, "name": t.name, "time_zone": t.time_zone, "language": t.language,
            "invalid_files": t.invalid_files, "isil": t.isil or None,
            "archive_type": t.archive_type or None, "state": t.state or None,
            "public_url": t.public_url or None,
            "closed_descriptions": t.closed_descriptions}  # fmt: skip


def _changed(d: dict) -> str:
    return ", ".join(d["changed"]) or "nothing changed"


def cmd_tenant_create(args, home):
    from magazin.catalog.organisation import create_tenant
    from magazin.catalog.services import CatalogError

    try:
        t = create_tenant(home, args.slug, args.name, _user(args), args.time_zone, args.language)
    except CatalogError as e:
        raise Failure(str(e)) from None
    _out(args, _tenant_dict(t), lambda d: print(f"Tenant {d['slug']} created: {d['name']}"))
    return EXIT_OK


def cmd_tenant_edit(args, home):
    from magazin.catalog.organisation import edit_tenant
    from magazin.catalog.services import CatalogError

    tenant = _one_tenant(args.slug)
    try:
        changed = edit_tenant(home, tenant, _user(args), args.name, args.time_zone, args.language)
    except CatalogError as e:
        raise Failure(str(e)) from None
    data = {**_tenant_dict(tenant), "changed": changed}
    _out(args, data, lambda d: print(f"Tenant {d['slug']}: " + _changed(d)))
    return EXIT_OK


def cmd_tenant_set(args, home):
    from magazin.catalog.organisation import set_invalid_files, set_publication
    from magazin.catalog.services import CatalogError

    tenant = _one_tenant(args.slug)
    changed = []
    try:
        changed += set_publication(home, tenant, _user(args), args.isil, args.archive_type,
                                   args.public_url, args.closed_descriptions,
                                   args.state)  # fmt: skip
    except CatalogError as e:
        raise Failure(str(e)) from None
    if args.invalid_files and set_invalid_files(home, tenant, _user(args), args.invalid_files):
        changed.append("invalid_files")
    data = {**_tenant_dict(tenant), "changed": changed}
    _out(args, data, lambda d: print(f"Tenant {d['slug']}: " + _changed(d)))
    return EXIT_OK


def _write_atomically(out: Path, data: bytes) -> None:
    tmp = out.with_name(f".{out.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, out)


def cmd_ead_export(args, home):
    from magazin.interop.ead import EadError, findbuch

    tenant = _one_tenant(args.tenant)
    fonds = _one_fonds(tenant, args.fonds)
    try:
        xml, stats = findbuch(fonds)
    except EadError as e:
        raise Failure(str(e)) from None
    _write_atomically(args.out, xml)
    data = {"tenant": tenant.slug, "fonds": fonds.code, "out": str(args.out), **stats}
    _out(args, data, lambda d: print(
        f"{d['out']}: EAD(DDB) Findbuch of {d['fonds']} with {d['units']} units "
        f"({d['reduced']} reduced, {d['left_out']} left out under a closure period)"))  # fmt: skip
    return EXIT_OK


def cmd_ead_tektonik(args, home):
    from magazin.interop.ead import EadError, tektonik

    tenant = _one_tenant(args.tenant)
    try:
        xml, stats = tektonik(tenant)
    except EadError as e:
        raise Failure(str(e)) from None
    _write_atomically(args.out, xml)
    data = {"tenant": tenant.slug, "out": str(args.out), **stats}
    _out(args, data, lambda d: print(
        f"{d['out']}: EAD(DDB) Tektonik of {d['tenant']} with {d['groups']} groups and "
        f"{d['fonds']} fonds"))  # fmt: skip
    return EXIT_OK


def cmd_afis_export(args, home):
    from magazin.interop.afis import export_csv, export_ead

    tenant = _one_tenant(args.tenant)
    fonds = _one_fonds(tenant, args.fonds) if args.fonds else None
    data, n = (export_csv if args.format == "csv" else export_ead)(tenant, fonds)
    _write_atomically(args.out, data)
    out = {"tenant": tenant.slug, "fonds": fonds.code if fonds else None, "format": args.format,
           "units": n, "out": str(args.out)}  # fmt: skip
    _out(args, out, lambda d: print(f"{d['out']}: {d['units']} units ({d['format']})"))
    return EXIT_OK


def cmd_afis_import(args, home):
    from magazin.interop.afis import AfisError, import_descriptions

    tenant = _one_tenant(args.tenant)
    try:
        r = import_descriptions(home, tenant, Path(args.file), _user(args), args.match,
                                args.dry_run)  # fmt: skip
    except (AfisError, OSError) as e:
        raise Failure(str(e)) from None
    data = {**r.as_dict(), "dry_run": args.dry_run}

    def human(d):
        print(
            f"matched {d['matched']}, updated {d['updated']}, unchanged {d['unchanged']}, "
            f"unmatched {len(d['unmatched'])}" + (" (dry run)" if d["dry_run"] else "")
        )
        for c in d["conflicts"]:
            print(f"  conflict at {c['where']}: {c['key']} matches {', '.join(c['aids'])}")
        if d["conflicts"]:
            print("nothing applied: every entry must match one unit at most")

    _out(args, data, human)
    return EXIT_FAIL if r.conflicts else EXIT_OK


def cmd_eark_validate(args, home):
    from magazin.core.eark.checks import validate
    from magazin.core.eark.package import PackageError, open_package
    from magazin.core.eark.schemas import installed

    path = Path(args.path)
    if not path.exists():
        raise Failure(f"{args.path}: no such file or folder")
    try:
        with open_package(path, home.limits) as pkg:
            report = validate(pkg, installed(home.path))
    except PackageError as e:
        raise Failure(f"{path.name}: not read, unsafe or unreadable: {e}") from None
    data = report.as_dict()

    def human(d):
        print(
            f"{path.name}: {'valid' if d['valid'] else 'NOT valid'} as E-ARK {d['profile']} "
            f"{d['version']}" + (f" ({d['note']})" if d["note"] else "")
        )
        for r in d["results"]:
            if not r["passed"]:
                kind = "FAILED" if r["level"] == "MUST" else "warning"
                print(f"  {kind} {r['id']} ({r['level']}): {r['message']}")

    _out(args, data, human)
    return EXIT_OK if report.valid else EXIT_FAIL


def cmd_eark_schemas_install(args, home):
    from magazin.core.eark.schemas import SchemaError, install, schema_dir

    try:
        names = install(home.path, [Path(s) for s in args.src])
    except SchemaError as e:
        raise Failure(f"schemas refused, nothing changed: {e}") from None
    data = {"installed": names, "path": str(schema_dir(home.path))}
    _out(args, data, lambda d: print(f"{', '.join(d['installed'])} in {d['path']}"))
    return EXIT_OK


def cmd_oai(args, home):
    from magazin.catalog.organisation import set_oai
    from magazin.catalog.services import CatalogError

    tenant = _one_tenant(args.tenant)
    try:
        changed = set_oai(home, tenant, _user(args), args.action == "enable")
    except CatalogError as e:
        raise Failure(str(e)) from None
    data = {"tenant": tenant.slug, "enabled": tenant.oai_enabled, "changed": changed,
            "path": f"/oai/{tenant.slug}/",
            "repository_identifier": home.oai.repository_identifier}  # fmt: skip
    _out(args, data, lambda d: print(
        f"OAI-PMH for {d['tenant']}: {'on' if d['enabled'] else 'off'} ({d['path']})"
        + ("" if d["changed"] else ", as it was")))  # fmt: skip
    return EXIT_OK


def _tenants_of(args) -> list:
    from magazin.catalog.journal import all_tenants

    return [_one_tenant(args.tenant)] if args.tenant else all_tenants()


def cmd_journal_show(args, home):
    from magazin.catalog.journal import actor_names, journal_entries
    from magazin.core.ids import parse_aid

    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
    except ValueError:
        raise UsageError(f"--since {args.since!r}: use YYYY-MM-DD") from None
    if args.aid:
        try:
            parse_aid(args.aid)
        except ValueError as e:
            raise UsageError(str(e)) from None
    names = actor_names(home)
    data = [{**e, "actor_name": names.get(e.get("actor"))}
            for t in _tenants_of(args)
            for e in journal_entries(home, t, since, args.aid).oldest_first()]  # fmt: skip

    def row(e):
        objs = ", ".join(f"{o['id']} {o['version']}" for o in e["objects"][:3])
        more = f" (+{len(e['objects']) - 3})" if len(e["objects"]) > 3 else ""
        who = e["actor_name"] or e["actor"]
        return (
            f"{e['tenant']} #{e['seq']:<6} {e['time'][:19]}  {e['action']:16} {who:12} {objs}{more}"
        )

    _list_out(args, data, row, "No journal entries.")
    return EXIT_OK


def cmd_journal_verify(args, home):
    from magazin.catalog.journal import verify

    reports = verify(home, _tenants_of(args))
    data = reports[0] if len(reports) == 1 else reports

    def human(_d):
        for r in reports:
            state = "valid" if r["valid"] else f"NOT valid from entry {r['first_bad']} on"
            print(f"{r['tenant']}: {r['entries']} entries, {state}; time-stamps: "
                  f"{r['timestamps']}, {r['unanchored']} entries not yet anchored")  # fmt: skip
            for p in r["problems"][:20]:
                print(f"  entry {p['seq']}: {p['problem']}")

    _out(args, data, human)
    return EXIT_OK if all(r["valid"] for r in reports) else EXIT_FAIL


def cmd_journal_flush(args, home):
    from magazin.catalog.journal import flush

    data = flush(home, _tenants_of(args), _user(args))
    _list_out(args, data, lambda d: f"{d['tenant']}: {d['stored']} entries stored",
              "No tenants yet.")  # fmt: skip
    return EXIT_OK


def cmd_evidence_run(args, home):
    from magazin.catalog.evidence import run

    reports = run(home, _tenants_of(args), _user(args))
    data = reports[0] if len(reports) == 1 else reports

    def human(_d):
        for r in reports:
            if r["run"] is None:
                print(f"{r['tenant']}: nothing new since entry {r['journal_until']}")
            else:
                print(f"{r['tenant']}: run {r['run']} at {r['time'][:19]}: journal up to entry "
                      f"{r['journal_until']} and {r['versions']} AIP version(s)")  # fmt: skip

    _out(args, data, human)
    return EXIT_OK


def cmd_evidence_renew(args, home):
    from magazin.catalog.evidence import renew

    if not args.timestamps and not args.hash:
        raise UsageError("say what to renew: --timestamps, --hash ALGORITHM, or both")
    reports = renew(home, _tenants_of(args), _user(args), args.timestamps, args.hash, args.force)

    def human(_d):
        for r in reports:
            for run in r["runs"]:
                what = (f"{run['chains']} chain(s) re-time-stamped" if r["kind"] == "timestamps"
                        else f"{run['versions']} AIP version(s) in new chains")  # fmt: skip
                print(f"{r['tenant']}: run {run['run']} ({run['hash']}): {what}")
            if not r["runs"]:
                print(f"{r['tenant']}: nothing due")
            if r.get("weak_hash_chains"):
                print(f"{r['tenant']}: chains with a hash no longer secure need --hash: "
                      f"runs {r['weak_hash_chains']}")  # fmt: skip

    _out(args, reports, human)
    return EXIT_OK


def cmd_evidence_export(args, home):
    from magazin.catalog.evidence import export

    record, info = export(home, args.aid, args.version)
    out = Path(args.out)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(record)
    os.replace(tmp, out)
    data = {**info, "out": str(out), "bytes": len(record)}
    _out(args, data, lambda d: print(f"{d['aid']} {d['version']}: evidence record in {d['out']}"))
    return EXIT_OK


def cmd_evidence_verify(args, home):
    from magazin.catalog.evidence import verify

    record = None
    if args.record:
        try:
            record = Path(args.record).read_bytes()
        except OSError as e:
            raise Failure(f"{args.record}: cannot be read: {e.strerror or e}") from None
    data = verify(home, args.aid, args.version, record)

    def human(d):
        print(f"{d['aid']} {d['version']}: evidence record "
              + ("valid" if d["valid"] else "NOT valid"))  # fmt: skip
        for s in d["time_stamps"]:
            print(f"  time-stamped {s['time'][:19]} by {s['tsa']} ({s['hash']})")
        for p in d["problems"]:
            print(f"  {p}")

    _out(args, data, human)
    return EXIT_OK if data["valid"] else EXIT_FAIL


def cmd_tenant_list(args, home):
    from magazin.catalog.models import Tenant

    data = [_tenant_dict(t) for t in Tenant.objects.order_by("slug")]
    _list_out(args, data, lambda x: f"{x['slug']:20} {x['name']}", "No tenants yet.")
    return EXIT_OK


def _fonds_dict(f) -> dict:
    return {"tenant": f.tenant.slug, "code": f.code, "title": f.title, "group": f.group or None}


def cmd_fonds_create(args, home):
    from magazin.catalog.organisation import create_fonds
    from magazin.catalog.services import CatalogError

    tenant = _one_tenant(args.tenant)
    try:
        f = create_fonds(home, tenant, args.code, args.title, _user(args), args.group)
    except CatalogError as e:
        raise Failure(str(e)) from None
    _out(args, _fonds_dict(f),
         lambda d: print(f"Fonds {d['code']} created in {d['tenant']}: {d['title']}"))  # fmt: skip
    return EXIT_OK


def cmd_fonds_edit(args, home):
    from magazin.catalog.organisation import edit_fonds
    from magazin.catalog.services import CatalogError

    f = _one_fonds(_one_tenant(args.tenant), args.code)
    try:
        changed = edit_fonds(home, f, _user(args), args.title, args.group)
    except CatalogError as e:
        raise Failure(str(e)) from None
    data = {**_fonds_dict(f), "changed": changed}
    _out(args, data, lambda d: print(f"Fonds {d['code']}: " + _changed(d)))
    return EXIT_OK


def cmd_fonds_list(args, home):
    from magazin.catalog.models import Fonds

    qs = Fonds.objects.select_related("tenant")
    if args.tenant:
        qs = qs.filter(tenant__slug=args.tenant)
    data = [_fonds_dict(f) for f in qs]
    _list_out(args, data, lambda x: f"{x['tenant']:16} {x['code']:20} {x['title']}", "No fonds.")
    return EXIT_OK


def cmd_tektonik(args, home):
    """The tenant's classification: create a group, or list the groups with their fonds."""
    from magazin.catalog.organisation import classification, create_group
    from magazin.catalog.services import CatalogError

    tenant = _one_tenant(args.tenant)
    if args.action == "create":
        try:
            g = create_group(home, tenant, args.path, args.title, _user(args))
        except CatalogError as e:
            raise Failure(str(e)) from None
        data = {"tenant": tenant.slug, "path": g.path, "title": g.title}
        _out(args, data, lambda d: print(f"Group {d['path']} created: {d['title']}"))
        return EXIT_OK
    data = [{"path": g["path"] or None, "title": g["title"] or None,
             "fonds": [f.code for f in g["fonds"]]} for g in classification(tenant)]  # fmt: skip
    _list_out(
        args,
        data,
        lambda x: (
            f"{x['path'] or '(unclassified)':20} {x['title'] or ''}"
            + (f"  [{', '.join(x['fonds'])}]" if x["fonds"] else "")
        ),
        "No classification yet.",
    )
    return EXIT_OK


def _parse_map(items):
    from magazin.core.sip.table import MAP_TARGETS

    mapping = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--map {item!r}: expected COLUMN=FIELD")
        col, field = item.rsplit("=", 1)
        field = field.strip().lower()
        if field not in MAP_TARGETS:
            raise UsageError(
                f"--map {item!r}: FIELD must be one of " + ", ".join(sorted(MAP_TARGETS))
            )
        mapping[col.strip()] = field
    return mapping


def _print_ingest(d):
    if d["status"] == "rejected":
        print(f"REJECTED: {d.get('sip', '')}", file=sys.stderr)
        for e in d["errors"]:
            print(f"  {e['path']}: {e['reason']} [{e['code']}]", file=sys.stderr)
        if d.get("quarantine"):
            print(
                f"Recorded in quarantine {d['quarantine']} "
                f"(magazin quarantine show {d['quarantine']})",
                file=sys.stderr,
            )
        return
    stored = sum(1 for a in d["aips"] if a["status"] == "stored")
    dup = len(d["aips"]) - stored
    print(f"{d['status']}: accession {d['accession']}, {stored} AIP(s) stored, {dup} duplicate(s)")
    for a in d["aips"][:20]:
        print(f"  {a['aid']}  {a['status']:9} {a['files']} file(s), {a['bytes']} bytes")
    if len(d["aips"]) > 20:
        print(f"  … and {len(d['aips']) - 20} more")
    for w in d.get("warnings", []):
        print(f"  warning: {w['path']}: {w['reason']} [{w['code']}]")


def cmd_ingest(args, home):
    from magazin.core.ingest import IngestRequest
    from magazin.ingest.jobs import CommandLineJob
    from magazin.ingest.services import run_ingest

    tenant = _one_tenant(args.tenant)
    fonds = _one_fonds(tenant, args.fonds)
    req = IngestRequest(
        Path(args.path),
        tenant.slug,
        fonds.code,
        Path(args.metadata) if args.metadata else None,
        _parse_map(args.map),
        args.unlisted,
        _user(args),
        args.source,
    )
    job = CommandLineJob(tenant, req.user, req)
    try:
        result, q = run_ingest(home, req, _progress(args))
    except BaseException as e:
        job.fail(f"{type(e).__name__}: {e}")
        raise
    data = result.as_dict()
    job.finish(data, q.qid if q is not None else "")
    if q is not None:
        data["quarantine"] = q.qid
    data["sip"] = str(args.path)
    _out(args, data, _print_ingest)
    return EXIT_FAIL if result.status == "rejected" else EXIT_OK


def cmd_accession_list(args, home):
    from magazin.catalog.models import Accession
    from magazin.catalog.services import iso

    qs = Accession.objects.select_related("tenant", "fonds")
    if args.tenant:
        qs = qs.filter(tenant__slug=args.tenant)
    data = [
        {
            "number": a.number,
            "tenant": a.tenant.slug,
            "fonds": a.fonds.code,
            "date": iso(a.created),
            "source": a.source,
            "sip_name": a.sip_name,
            "files": a.files,
            "bytes": a.bytes,
            "aips": a.units.count(),
        }
        for a in qs
    ]
    _list_out(
        args,
        data,
        lambda x: (
            f"{x['tenant']:14} {x['number']:10} {x['date'][:10]} {x['fonds']:14} "
            f"{x['aips']:6} AIPs {x['files']:7} files {x['bytes']:>14} B  {x['sip_name']}"
        ),
        "No accessions.",
    )
    return EXIT_OK


def _q_dict(q, full=False):
    from magazin.catalog.services import iso

    d = {
        "id": q.qid,
        "created": iso(q.created),
        "sip": q.sip_path,
        "tenant": q.tenant,
        "fonds": q.fonds,
        "status": q.status,
        "problems": len(q.problems),
    }
    if full:
        d["problems"] = q.problems
        d["request"] = q.request
        d["resolved"] = iso(q.resolved)
        d["resolved_by"] = q.resolved_by
        d["note"] = q.note
    return d


def _get_q(qid):
    from magazin.ingest.models import QuarantineEntry

    try:
        return QuarantineEntry.objects.get(qid=qid)
    except QuarantineEntry.DoesNotExist:
        raise Failure(f"no quarantine entry {qid!r}") from None


def cmd_quarantine(args, home):
    from magazin.ingest.models import QuarantineEntry
    from magazin.ingest.services import QuarantineError, discard_entry, retry_entry

    if args.qaction == "list":
        qs = QuarantineEntry.objects.all()
        if args.tenant:
            qs = qs.filter(tenant=args.tenant)
        if not args.all:
            qs = qs.filter(status="open")
        data = [_q_dict(q) for q in qs]
        _list_out(
            args,
            data,
            lambda x: (
                f"{x['id']}  {x['created'][:19]}  {x['status']:9} "
                f"{x['problems']:3} problem(s)  {x['sip']}"
            ),
            "Quarantine is empty.",
        )
        return EXIT_OK
    q = _get_q(args.id)
    if args.qaction == "show":
        d = _q_dict(q, full=True)

        def human(d):
            print(
                f"Quarantine {d['id']} ({d['status']})\nSIP: {d['sip']}\n"
                f"Tenant: {d['tenant']}  Fonds: {d['fonds']}\nProblems:"
            )
            for p in d["problems"]:
                print(f"  {p['path']}: {p['reason']} [{p['code']}]")

        _out(args, d, human)
        return EXIT_OK
    try:
        if args.qaction == "discard":
            discard_entry(home, q, _user(args), args.reason or "")
            _out(
                args,
                _q_dict(q, True),
                lambda d: print(f"Quarantine {d['id']} discarded (the record is kept)."),
            )
            return EXIT_OK
        data, ok = retry_entry(home, q, _user(args), _progress(args))
    except QuarantineError as e:
        raise Failure(str(e)) from None
    if q.request.get("xdomea"):
        _out(args, data, lambda d: print(f"{d['status']}: {d['file']} ({d['agency']})"))
    else:
        _out(args, data, _print_ingest)
    return EXIT_OK if ok else EXIT_FAIL


def cmd_job(args, home):
    from magazin.ingest.jobs import job_dict
    from magazin.ingest.models import IngestJob

    qs = IngestJob.objects.select_related("tenant")
    if args.action in ("show", "retry"):
        job = qs.filter(jid=args.id).first()
        if job is None:
            raise Failure(f"no ingest job {args.id!r}")
    if args.action == "retry":
        from magazin.ingest.jobs import JobError, run_again

        try:
            run_again(job, _user(args))
        except JobError as e:
            raise Failure(str(e)) from None
        _out(args, job_dict(job), lambda d: print(f"Job {d['job']} queued again."))
        return EXIT_OK
    if args.action == "show":

        def human(d):
            print(f"Job {d['job']} ({d['kind']}): {d['state']} {d['progress']} %  {d['name']}")
            print(f"Tenant: {d['tenant']}  Fonds: {d['fonds'] or '-'}  User: {d['user']}")
            for a in d["aips"]:
                print(f"  {a['aid']}  {a['status']}")
            for e in d["errors"]:
                print(f"  {e['path']}: {e['reason']} [{e['code']}]")

        _out(args, job_dict(job), human)
        return EXIT_OK
    if args.tenant:
        qs = qs.filter(tenant__slug=_one_tenant(args.tenant).slug)
    if args.state:
        qs = qs.filter(state=args.state)
    data = [job_dict(j) for j in qs.order_by("-created")[: args.limit]]
    _list_out(
        args,
        data,
        lambda x: (
            f"{x['job']}  {x['created'][:19]}  {x['tenant']:12} {x['state']:9} "
            f"{x['progress']:3} %  {len(x['aips']):4} AIPs  {x['name']}"
        ),
        "No jobs.",
    )
    return EXIT_OK


def cmd_aip_list(args, home):
    from magazin.catalog.models import Unit
    from magazin.catalog.services import aip_summary

    qs = Unit.objects.filter(parent=None).select_related("tenant", "fonds")
    if args.tenant:
        qs = qs.filter(tenant__slug=args.tenant)
    if args.fonds:
        qs = qs.filter(fonds__code=args.fonds)
    data = [aip_summary(u) for u in qs.order_by("tenant__slug", "aid")]
    _list_out(
        args,
        data,
        lambda x: (
            f"{x['aid']}  {x['fonds']:12} {x['files']:4} files {x['bytes']:>12} B  {x['title']}"
        ),
        "No AIPs.",
    )
    return EXIT_OK


def _get_unit(aid):
    from magazin.catalog.models import Unit

    try:
        return Unit.objects.select_related("tenant", "fonds", "accession").get(aid=aid)
    except Unit.DoesNotExist:
        raise Failure(f"no AIP {aid!r}") from None


VALIDATION_WORDS = {"success": "valid", "failure": "INVALID", "warning": "not validated",
                    "": "not validated yet"}  # fmt: skip


def cmd_aip_show(args, home):
    from magazin.catalog.services import aip_detail

    d = aip_detail(_get_unit(args.aid))

    def human(d):
        print(
            f"{d['aid']}  {d['title']}\nTenant {d['tenant']}, fonds {d['fonds']}, "
            f"accession {d['accession']}, OCFL id {d['ocfl_id']}"
        )
        for k, vs in d["dc"].items():
            for v in vs:
                print(f"  dc:{k}: {v}")
        print("Files:")
        for f in d["files"]:
            print(
                f"  {f['representation']}/{f['path']}  {f['size']} B  {f['puid'] or '?'} "
                f"{f['mime'] or ''}  {VALIDATION_WORDS.get(f['validation'], '')}"
            )
            if f["validation"] == "failure":
                print(f"      {f['validation_note']}")
        print("Events:")
        for e in d["events"]:
            print(f"  {e['datetime']}  {e['type']:28} {e['outcome']}")
        print("Copies: " + ", ".join(f"{c['location']} ({c['status']})" for c in d["copies"]))

    _out(args, d, human)
    return EXIT_OK


def cmd_aip_edit(args, home):
    from magazin.catalog.edit import edit_unit

    unit = _get_unit(args.aid)
    extra: dict[str, str | None] = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item!r}: use FIELD=VALUE")
        extra[key.strip()] = value
    for key in args.unset or []:
        extra[key] = None
    dc: dict[str, list[str]] = {}
    for item in args.dc or []:
        el, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--dc {item!r}: use ELEMENT=VALUE")
        dc.setdefault(el.strip(), []).append(value) if value else dc.setdefault(el.strip(), [])
    data = edit_unit(home, unit, _user(args), title=args.title, dc=dc, extra=extra)
    _out(
        args,
        data,
        lambda d: print(
            f"{d['aid']}: "
            + (
                "; ".join(d["changed"]) + f" (OCFL {d['version']})"
                if d["changed"]
                else "nothing changed"
            )
        ),  # fmt: skip
    )
    return EXIT_OK


def cmd_export(args, home):
    from magazin.access.export import export_dip, export_eark

    unit = _get_unit(args.aid)
    out = Path(args.out)
    if args.format != "zip":
        info = export_eark(home, unit, out, args.format, args.representation)
        _out(args, info, lambda d: print(
            f"E-ARK {d['format'][5:].upper()} of {d['aid']} written to {d['out']} "
            f"({d['files']} files)"))  # fmt: skip
        return EXIT_OK
    info = export_dip(home, unit, out, args.representation)
    _out(
        args, info, lambda d: print(f"DIP of {d['aid']} written to {d['out']} ({d['files']} files)")
    )
    return EXIT_OK


def cmd_audit(args, home):
    from magazin.catalog.audit import audit_report, run_audit

    if args.report:
        r = audit_report(home)
        _out(args, r, lambda d: print(
            f"Fixity cycle {d['cycle_days']} days: {d['checked_in_cycle']} of {d['copies']} "
            f"copies checked in the cycle ({_size(d['bytes'])}), {d['failures']} failure(s), "
            f"{d['repairs']} repair(s); oldest check {d['oldest_check'] or '-'}"
        ))  # fmt: skip
        return EXIT_OK
    report = run_audit(home, args.aids, args.location, args.repair, _user(args), _progress(args))

    def human(d):
        print(
            f"Audit: {d['checked']} copies checked, {d['ok']} ok, "
            f"{len(d['failed'])} problem(s), {len(d['repaired'])} repaired"
        )
        for f in d["failed"]:
            print(f"  {f['aid']} @ {f['location']}: {f['path']}: {f['problem']}")
        for r in d["repaired"]:
            print(f"  repaired {r['aid']} @ {r['location']} from {r['source']}")

    _out(args, report, human)
    unresolved = {(f["aid"], f["location"]) for f in report["failed"]} - {
        (r["aid"], r["location"]) for r in report["repaired"]
    }
    return EXIT_FAIL if unresolved else EXIT_OK


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def cmd_location(args, home):
    from magazin.catalog import locations as L

    if args.laction == "list":
        rows = L.location_list(home)
        _out(args, rows, lambda d: [print(
            f"{r['name']:16} {r['type']:10} {r['state']:11} {r['objects'] or 0:>8} objects "
            f"{_size(r['bytes']):>10}  free {_size(r['free'])}") for r in d])  # fmt: skip
        return EXIT_OK
    if args.laction == "show":
        r = L.location_show(home, args.name)
        _out(args, r, lambda d: [print(f"{k}: {v}") for k, v in d.items()])
        return EXIT_OK
    if args.laction == "check":
        r = L.location_check(home, args.name)
        _out(args, r, lambda d: [print(f"{k}: {v}") for k, v in d.items()])
        return EXIT_OK if r["reachable"] and r["writable"] else EXIT_FAIL
    if args.laction == "replicate":
        r = L.location_replicate(home, args.name, _user(args), _progress(args), args.max_mb_per_s)

        def human(d):
            print(f"{d['location']}: {d['objects']} objects, {d['copied']} copied "
                  f"({_size(d['bytes'])}), {d['completed']} completed, {d['skipped']} held "
                  f"already, {len(d['failed'])} failed")  # fmt: skip
            for f in d["failed"]:
                print(f"  {f['tenant']}/{f['object']}: {f['error']}")

        _out(args, r, human)
        return EXIT_FAIL if r["failed"] else EXIT_OK
    r = L.location_retire(home, args.name, _user(args))
    _out(args, r, lambda d: print(
        f"{d['name']} retired; replication now {', '.join(d['replication'])} "
        f"(previous magazin.toml kept as {d['previous_config']})"
    ))  # fmt: skip
    return EXIT_OK


def cmd_rebuild(args, home):
    from magazin.access.search import catch_up
    from magazin.catalog.rebuild import RebuildError, rebuild

    try:
        counts = rebuild(home, _progress(args))
    except RebuildError as e:
        raise Failure(str(e)) from None
    catch_up(prune=True)  # the full-text index of the units as they are now, before a search
    _out(
        args,
        counts,
        lambda d: print(
            "Catalog rebuilt from storage: " + ", ".join(f"{v} {k}" for k, v in d.items())
        ),
    )
    return EXIT_OK


def _signature_info(ident) -> dict:
    ss = ident.sigset
    return {
        "engine": ident.agent,
        "droid_version": ss.version,
        "droid_created": ss.created,
        "container": ss.container_version,
        "formats": len(ss.formats),
        "signatures": len(ss.signatures),
        "container_signatures": len(ss.containers),
        "sha256": ss.sources,
    }


def _print_signature_info(d: dict) -> None:
    print(f"{d['engine']}")
    print(
        f"  {d['formats']} formats, {d['signatures']} byte signatures, "
        f"{d['container_signatures']} container signatures"
    )


def cmd_formats_update(args, home):
    from magazin.core.formats.identify import default_identifier
    from magazin.core.formats.library import install
    from magazin.core.formats.signatures import SignatureFileError

    for f in (args.droid, args.container):
        if f is not None and not Path(f).is_file():
            raise Failure(f"{f}: no such file")
    try:
        install(home.path, Path(args.droid), Path(args.container) if args.container else None)
    except SignatureFileError as e:
        raise Failure(f"signature file refused, nothing changed: {e}") from None
    _out(args, _signature_info(default_identifier(home.path)), _print_signature_info)
    return EXIT_OK


def cmd_formats_info(args, home):
    from magazin.core.formats.identify import default_identifier

    _out(args, _signature_info(default_identifier(home.path)), _print_signature_info)
    return EXIT_OK


def cmd_xdomea_schemas_install(args, home):
    from magazin.core.xdomea.schemas import SchemaError, install

    try:
        done = install(home.path, Path(args.src), Path(args.xoev) if args.xoev else None)
    except SchemaError as e:
        raise Failure(f"schemas refused, nothing changed: {e}") from None
    data = {"installed": [v.as_dict() for v in done]}
    _out(
        args,
        data,
        lambda d: [
            print(f"xdomea {v['version']}: {v['files']} files in {v['path']}")
            for v in d["installed"]
        ],
    )
    return EXIT_OK


def cmd_xdomea_schemas_list(args, home):
    from magazin.core.xdomea.schemas import installed

    data = {"versions": installed(home.path)}
    _out(args, data, lambda d: print("\n".join(d["versions"]) or "no xdomea schemas installed"))
    return EXIT_OK


def cmd_formats_identify(args, home):
    from magazin.core.formats.identify import default_identifier

    ident = default_identifier(home.path)
    out = []
    for p in args.paths:
        path = Path(p)
        if not path.exists():
            raise Failure(f"{p}: no such file or folder")
        targets = (
            [path]
            if path.is_file()
            else sorted(x for x in path.rglob("*") if x.is_file() and not x.is_symlink())
        )
        for t in targets:
            r = ident.identify(t)
            out.append(
                {
                    "path": str(t),
                    "puid": r.puid,
                    "format": r.format,
                    "version": r.version,
                    "mime": r.mime,
                    "basis": r.basis,
                    "warning": r.warning,
                }
            )
    _out(
        args,
        out,
        lambda d: [
            print(
                f"{x['puid'] or 'unknown':12} {x['basis']:10} "
                f"{x['path']}  {x['format'] or ''} {x['version'] or ''}"
                + (f"  ({x['warning']})" if x["warning"] else "")
            )
            for x in d
        ],
    )
    return EXIT_OK


def _roots_of(args):
    """The AIPs (root units) a preservation command is about: the AIDs given (a unit inside
    an AIP stands for its AIP), or every AIP of --fonds, of --tenant, or of the archive."""
    from magazin.catalog.models import Unit
    from magazin.catalog.services import unit_root

    aids = getattr(args, "aids", None) or []
    if aids and (args.tenant or args.fonds):
        raise UsageError("give AIDs or --tenant/--fonds, not both")
    if aids:
        roots = {r.pk: r for r in (unit_root(_get_unit(a)) for a in aids)}
        return list(roots.values())
    qs = Unit.objects.filter(parent=None).select_related("tenant", "fonds").order_by("aid")
    if args.fonds:
        tenant = _one_tenant(args.tenant)
        return list(qs.filter(fonds=_one_fonds(tenant, args.fonds)))
    if args.tenant:
        return list(qs.filter(tenant=_one_tenant(args.tenant)))
    return list(qs)


def cmd_formats_validate(args, home):
    from magazin.preservation.validation import validate_stored

    roots = _roots_of(args)
    if not roots:
        raise Failure("no AIPs to validate")
    d = validate_stored(home, roots, _user(args), _progress(args))
    _out(args, d, lambda d: print(
        f"{d['aips']} AIP(s), {d['files']} file(s) validated: {d['invalid']} invalid; "
        f"{d['changed']} result(s) changed, {len(d['versions'])} new version(s)"))  # fmt: skip
    return EXIT_OK


def cmd_formats_validation(args, home):
    from magazin.preservation.validation import summary

    d = summary(_roots_of(args))

    def human(d):
        t = d["totals"]
        print(f"{t.get('files', 0)} file(s): {t.get('valid', 0)} valid, "
              f"{t.get('invalid', 0)} invalid, {t.get('not_validated', 0)} not validated, "
              f"{t.get('unchecked', 0)} not validated yet")  # fmt: skip
        for r in d["formats"]:
            print(f"  {r['puid'] or '?':12} {r['files']:>7} files  {r['valid']:>7} valid  "
                  f"{r['invalid']:>5} invalid  {r['not_validated'] + r['unchecked']:>5} "
                  f"not validated  {r['format'] or 'unknown format'}")  # fmt: skip
        if d["not_valid"]:
            print("Files not valid:")
        for f in d["not_valid"]:
            print(f"  {f['aid']}  {f['representation']}/{f['path']}  {f['outcome']}: "
                  f"{f['messages']}")  # fmt: skip

    _out(args, d, human)
    return EXIT_OK


def cmd_formats_risk(args, home):
    from magazin.catalog.services import CatalogError
    from magazin.preservation.register import holdings_by_risk, set_entry

    tenant = _one_tenant(args.tenant)
    if getattr(args, "risk_action", None) == "set":
        try:
            d = set_entry(home, tenant, args.puid, _user(args), risk=args.risk, plan=args.plan,
                          note=args.note)  # fmt: skip
        except CatalogError as e:
            raise Failure(str(e)) from None
        _out(args, d, lambda d: print(
            f"{d['puid']}: " + ("; ".join(f"{k} {d['before'][k]!r} → {d['after'][k]!r}"
                                          for k in d["after"] if d["after"][k] != d["before"][k])
                                if d["changed"] else "nothing changed")))  # fmt: skip
        return EXIT_OK
    units = None
    if args.fonds:
        from magazin.catalog.models import Unit

        units = Unit.objects.filter(fonds=_one_fonds(tenant, args.fonds), parent=None)
    data = holdings_by_risk(tenant, units)
    _list_out(args, data, lambda r: (
        f"{(r['risk'] or 'not assessed'):13} {r['puid'] or '?':12} {r['files']:>7} files "
        f"{_size(r['bytes']):>10}  {r['format'] or 'unknown format'}"
        + (f"  → plan {r['plan']}" if r["plan"] else "")), "No files held.")  # fmt: skip
    return EXIT_OK


def cmd_preserve_plans(args, home):
    from magazin.core.preservation.plans import PLANS, available

    data = [{**p.as_dict(), "available": available(p)} for p in PLANS.values()]
    _list_out(args, data, lambda p: (
        f"{p['name']:16} {p['tool']:12} → {p['target']}"
        + ("" if p["available"] else "  (not available: tool not installed)")
        + f"\n{'':16} from {', '.join(p['from'])}"), "No plans.")  # fmt: skip
    return EXIT_OK


def cmd_preserve_run(args, home):
    from magazin.preservation.runs import plan_named, run_plan

    plan = plan_named(args.plan)
    roots = _roots_of(args)
    if not roots:
        raise Failure("no AIPs to migrate")
    d = run_plan(home, plan, roots, _user(args), dry_run=args.dry_run, jobs=args.jobs,
                 progress=_progress(args))  # fmt: skip

    def human(d):
        print(f"Plan {d['plan']}: {d['units']} unit(s), {d['migrated']} "
              f"{'to migrate' if args.dry_run else 'migrated'}, {d['skipped']} skipped, "
              f"{len(d['failed'])} file(s) failed")  # fmt: skip
        for f in d["failed"]:
            print(f"  {f['aid']}  {f['path']}: {f['reason']}")

    _out(args, d, human)
    return EXIT_OK if not d["failed"] else EXIT_FAIL


def cmd_serve(args, home):
    """The web UI on waitress (a production WSGI server, pure Python, many threads)."""
    from waitress import serve

    from magazin.wsgi import application

    _log_to_stderr()
    print(
        f"Magazin on http://{args.host}:{args.port}/  (data folder {home.path})",
        file=sys.stderr,
    )
    if args.poll_interval > 0:  # the embedded default runs the background work in-process
        import threading

        from magazin.background import run_forever

        def report(h):
            print(f"xdomea: {h.status} {h.tenant}/{h.agency} {h.file}", file=sys.stderr)

        threading.Thread(
            target=run_forever,
            args=(home, _user(args), args.poll_interval, report, threading.Event()),
            daemon=True,
        ).start()
    serve(
        application,
        host=args.host,
        port=int(args.port),
        threads=8,
        ident="Magazin",
        # uploads of whole deliveries: waitress spools the body to disk; its default cap
        # (1 GiB) would refuse them, so the cap is the largest container ingest accepts
        max_request_body_size=home.limits.max_total_bytes,
    )
    return EXIT_OK


def cmd_user_create(args, home):
    from magazin.access.users import UserError, create_user

    tenant = _one_tenant(args.tenant)
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise UsageError("--password-stdin: no password on standard input")
    elif sys.stdin.isatty() and not args.json:
        password = getpass.getpass(f"Password for {args.username}: ")
    try:
        data = create_user(args.username, tenant, args.role, password, args.token,
                           by=_user(args))  # fmt: skip
    except UserError as e:
        raise Failure(str(e)) from None

    def human(d):
        print(f"User {d['username']} created in {d['tenant']} as {d['role']}")
        if "token" in d:
            print(f"API token: {d['token']}")

    _out(args, data, human)
    return EXIT_OK


def cmd_user_token(args, home):
    """A new named API token for an existing user (shown once), or --revoke one."""
    from magazin.access.tokens import TokenError, create_token, revoke_token, user_named

    try:
        user = user_named(args.username)
        if args.revoke:
            t = revoke_token(user, args.revoke)
            data = {"username": user.username, "name": t.name, "revoked": True}
            _out(args, data, lambda d: print(f"Token {d['name']} of {d['username']} revoked."))
            return EXIT_OK
        t, token = create_token(user, args.name or "")
    except TokenError as e:
        raise Failure(str(e)) from None
    data = {"username": user.username, "name": t.name, "token": token}
    _out(args, data, lambda d: print(f"API token {d['name']} of {d['username']}: {d['token']}"))
    return EXIT_OK


def cmd_user_list(args, home):
    from magazin.access.models import Membership
    from magazin.catalog.services import iso

    qs = Membership.objects.select_related("user", "tenant").order_by(
        "tenant__slug", "user__username"
    )
    if args.tenant:
        qs = qs.filter(tenant__slug=args.tenant)
    data = [
        {
            "username": m.user.username,
            "tenant": m.tenant.slug,
            "role": m.role,
            "active": m.user.is_active,
            "last_login": iso(m.user.last_login),
        }
        for m in qs
    ]
    _list_out(
        args,
        data,
        lambda x: (
            f"{x['tenant']:16} {x['username']:24} {x['role']:10} "
            f"{'active' if x['active'] else 'inactive'}"
        ),
        "No users.",
    )
    return EXIT_OK


def _units_of(args):
    """The units an access command is about: the AIDs given, or every unit of --fonds."""
    from magazin.catalog.models import Unit
    from magazin.catalog.services import with_descendants

    if getattr(args, "fonds", None):
        if args.aids:
            raise UsageError("give AIDs or --fonds, not both")
        tenant = _one_tenant(args.tenant)
        fonds = _one_fonds(tenant, args.fonds)
        return list(Unit.objects.filter(fonds=fonds).select_related("tenant", "fonds"))
    if not args.aids:
        raise UsageError("give one or more AIDs, or --fonds CODE")
    return with_descendants([_get_unit(aid) for aid in args.aids])


def _print_access(d):
    if isinstance(d, list):
        for x in d:
            _print_access(x)
        return
    print(f"{d['aid']}: {d['status']} ({d['reason']})")


def cmd_access(args, home):
    from magazin.access import services as acc

    try:
        if args.action == "profile":
            tenant = _one_tenant(args.tenant)
            n = acc.set_profile(tenant, args.profile, _user(args))
            data = {"tenant": tenant.slug, "profile": args.profile, "units": n}
            _out(args, data, lambda d: print(f"{d['tenant']}: {d['profile']} ({d['units']} units)"))
            return EXIT_OK
        if args.action in ("release", "publish"):
            units = _units_of(args)
            if args.action == "release":
                acc.release(units, _user(args), args.reason, _progress(args))
            else:
                from magazin.catalog.edit import publish

                publish(home, units, _user(args), args.reason)
                units = [_get_unit(u.aid) for u in units]
            data = [{"aid": u.aid, **acc.access_status(u)} for u in units]
            if len(args.aids) == 1 and not args.fonds and len(data) >= 1:
                data = data[0]  # one AID: the unit itself, as `access show` reports it
            _out(args, data, _print_access)
            return EXIT_OK
        unit = _get_unit(args.aid)
        if args.action == "grant":
            try:
                expires = dt.date.fromisoformat(args.expires)
            except ValueError:
                raise UsageError(f"--expires {args.expires!r}: use YYYY-MM-DD") from None
            acc.grant(unit, args.reader, _user(args), args.reason, args.purpose, expires)
        elif args.action == "revoke":
            if bool(args.reader) == bool(args.release):
                raise UsageError("give --reader NAME (a grant) or --release")
            if args.release:
                acc.withdraw_release(unit, _user(args), args.reason)
            else:
                acc.revoke(unit, args.reader, _user(args), args.reason)
    except acc.AccessError as e:
        raise Failure(str(e)) from None
    data = {"aid": unit.aid, **acc.access_status(unit)}
    _out(args, data, _print_access)
    return EXIT_OK


def cmd_access_log(args, home):

    from magazin.access.logs import access_log, log_dict

    tenant = _one_tenant(args.tenant).slug if args.tenant else None  # all tenants by default
    days = {}
    for name in ("date_from", "date_to"):
        value = getattr(args, name)
        try:
            days[name] = dt.date.fromisoformat(value) if value else None
        except ValueError:
            raise UsageError(f"--{name[5:]} {value!r}: use YYYY-MM-DD") from None
    qs = access_log(tenant, args.unit, args.user_name, days["date_from"], days["date_to"])
    data = [log_dict(e) for e in qs[: args.limit]]
    _list_out(
        args,
        data,
        lambda x: f"{x['time'][:19]}  {x['user']:16} {x['action']:9} {x['aid'] or ''}  {x['path']}",
        "The access log is empty for this selection.",
    )
    return EXIT_OK


def cmd_search(args, home):
    from magazin.access.search import search
    from magazin.catalog.models import Unit
    from magazin.catalog.services import aip_summary

    units = Unit.objects.select_related("tenant", "fonds")
    tenant_id = None
    if args.tenant:
        tenant_id = _one_tenant(args.tenant).pk
        units = units.filter(tenant_id=tenant_id)
    filters = {"fonds": args.fonds, "from": args.date_from, "to": args.date_to}
    found = search(units, args.query, filters, tenant_id)[: args.limit]
    data = [{**aip_summary(u), "score": round(float(u.score), 6)} for u in found]
    _list_out(
        args, data, lambda x: f"{x['score']:8.3f}  {x['aid']}  {x['title']}", "Nothing found."
    )
    return EXIT_OK


def cmd_index(args, home):
    """Extract the text of the files not yet in the full-text index (the background step),
    and bring the embedded default's index up to date (`indexed`: units (re)indexed)."""
    from magazin.access.search import catch_up, extract_pending, pending

    done = 0
    while n := extract_pending(home):
        done += n
    indexed = catch_up(prune=True)
    _out(
        args,
        {"extracted": done, "pending": pending(), "indexed": indexed},
        lambda d: print(f"{d['extracted']} unit(s) indexed"),
    )
    return EXIT_OK


def cmd_worker(args, home):
    """The background worker: queued ingest jobs at once, and every --interval seconds the
    xdomea inboxes and the text extraction for the search."""
    import signal
    import threading

    from magazin.background import round_of_work, run_forever

    def report(h):
        line = f"{h.status:9} {h.tenant}/{h.agency} {h.file}"
        if args.json:
            line = json.dumps(h.as_dict(), ensure_ascii=False)
        print(line, flush=True)

    _log_to_stderr()
    if args.once:
        for h in round_of_work(home, _user(args), args.interval):
            report(h)
        return EXIT_OK
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(
        f"Magazin worker: ingest jobs at once; xdomea inboxes, search text and fixity "
        f"checks every {args.interval} s",
        file=sys.stderr,
    )
    try:
        run_forever(home, _user(args), args.interval, report, stop)
    except KeyboardInterrupt:
        pass
    return EXIT_OK


# -- parser -------------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"magazin: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    from magazin.core.preservation.register import RISKS
    from magazin.core.sip import UNLISTED

    p = Parser(prog="magazin", description="Magazin digital archive")
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="cmd", required=True, parser_class=Parser)

    def cmd(parent, name, fn, help_, json_=True):
        sp = parent.add_parser(name, help=help_, description=help_)
        sp.set_defaults(fn=fn)
        if json_:
            sp.add_argument("--json", action="store_true", help="machine-readable output")
        return sp

    cmd(sub, "init", cmd_init, "create or check the data folder (MAGAZIN_HOME)")
    t = sub.add_parser("tenant", help="tenants (archive institutions)")
    ts = t.add_subparsers(dest="action", required=True, parser_class=Parser)
    for name, fn, help_ in (
        ("create", cmd_tenant_create, "create a tenant"),
        ("edit", cmd_tenant_edit, "change a tenant's name, time zone, language"),
    ):
        c = cmd(ts, name, fn, help_)
        c.add_argument("slug")
        c.add_argument("--name", required=name == "create")
        c.add_argument(
            "--time-zone",
            default="Europe/Berlin" if name == "create" else None,
            help="the zone its pages show times in (default Europe/Berlin)",
        )
        c.add_argument(
            "--language",
            choices=["de", "en"],
            default="de" if name == "create" else None,
            help="its users' language where they chose none (default de)",
        )
        c.add_argument("--user")
    cmd(ts, "list", cmd_tenant_list, "list tenants")
    c = cmd(ts, "set", cmd_tenant_set, "change a tenant's preservation settings")
    c.add_argument("slug")
    c.add_argument("--invalid-files", choices=["warn", "reject"],
                   help="an invalid file at ingest: warn (taken over, flagged) or reject "
                        "(the SIP goes to quarantine)")  # fmt: skip
    c.add_argument("--isil", help="its ISIL (ISO 15511, like DE-Mb112); '' clears it")
    c.add_argument("--archive-type", help="its Archivsparte for the Archivportal-D: "
                   + ", ".join(ARCHIVE_TYPES))  # fmt: skip
    c.add_argument(
        "--state",
        metavar="BUNDESLAND",
        help="its federal state, as the portal's Tektonik names it (e.g. Sachsen-Anhalt)",
    )
    c.add_argument("--public-url", help="the public address its published links start with "
                   "(https://archiv.example.org)")  # fmt: skip
    c.add_argument("--closed-descriptions", choices=["omit", "reduced"],
                   help="descriptions under a closure period for persons or secrecy in what "
                        "it publishes: left out (default) or reduced to level, signature and "
                        "date range")  # fmt: skip
    c.add_argument("--user")
    e = sub.add_parser("ead", help="EAD(DDB) finding aids for the Archivportal-D")
    es = e.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(es, "export", cmd_ead_export, "write a fonds as an EAD(DDB) 1.2 Findbuch")
    c.add_argument("tenant")
    c.add_argument("fonds")
    c.add_argument("--out", required=True, type=Path, help="the XML file to write")
    c = cmd(es, "tektonik", cmd_ead_tektonik,
            "write the tenant's classification as an EAD(DDB) 1.2 Tektonik")  # fmt: skip
    c.add_argument("tenant")
    c.add_argument("--out", required=True, type=Path, help="the XML file to write")
    a = sub.add_parser("afis", help="the link to the archive information system (AFIS)")
    as_ = a.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(as_, "export", cmd_afis_export,
            "what an AFIS imports to link its descriptions to the digital records")  # fmt: skip
    c.add_argument("tenant")
    c.add_argument("--fonds")
    c.add_argument("--format", choices=["csv", "ead"], default="csv",
                   help="csv: one row per unit (see the README); ead: EAD 2002")  # fmt: skip
    c.add_argument("--out", required=True, type=Path)
    c = cmd(as_, "import", cmd_afis_import,
            "descriptions made in the AFIS update the units they match")  # fmt: skip
    c.add_argument("tenant")
    c.add_argument("file", help="EAD 2002, EAD(DDB) or CSV with the export's header")
    c.add_argument("--match", choices=["signature", "aid", "alternate-id"], default="signature")
    c.add_argument("--dry-run", action="store_true", help="check and count, change nothing")
    c.add_argument("--user")
    ek = sub.add_parser("eark", help="E-ARK information packages")
    eks = ek.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(eks, "validate", cmd_eark_validate,
            "validate a package (folder, ZIP, TAR) against the profile it declares")  # fmt: skip
    c.add_argument("path")
    ekschemas = eks.add_parser("schemas", help="the schemas the validation uses")
    ekss = ekschemas.add_subparsers(dest="what", required=True, parser_class=Parser)
    c = cmd(ekss, "install", cmd_eark_schemas_install,
            "install mets.xsd and xlink.xsd (and the DILCIS extensions)")  # fmt: skip
    c.add_argument("src", nargs="+")
    j = sub.add_parser("journal", help="the archive journal: every action, hash-chained")
    js = j.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(js, "show", cmd_journal_show, "the journal's entries, oldest first")
    c.add_argument("--tenant")
    c.add_argument("--since", metavar="DATE", help="from this day on (YYYY-MM-DD)")
    c.add_argument("--aid", help="the entries that concern this unit")
    c = cmd(js, "verify", cmd_journal_verify,
            "check the chain, against storage's inventories and the other way round")  # fmt: skip
    c.add_argument("--tenant")
    c = cmd(js, "flush", cmd_journal_flush,
            "store the queued entries now as a segment (the worker does so hourly)")  # fmt: skip
    c.add_argument("--tenant")
    c.add_argument("--user")
    ev = sub.add_parser("evidence", help="RFC 3161 time-stamps and RFC 4998 evidence records")
    evs = ev.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(evs, "run", cmd_evidence_run,
            "time-stamp the journal and the AIP versions not yet covered, now")  # fmt: skip
    c.add_argument("--tenant")
    c.add_argument("--user")
    c = cmd(evs, "renew", cmd_evidence_renew,
            "renew evidence: time-stamps before their certificates expire, hash trees")  # fmt: skip
    c.add_argument(
        "--timestamps",
        action="store_true",
        help="re-time-stamp the chains due ([evidence] renew_days, secure hashes)",
    )
    c.add_argument("--hash", metavar="ALGORITHM", help="new chains with this hash (sha512 …)")
    c.add_argument("--force", action="store_true", help="with --timestamps: every chain")
    c.add_argument("--tenant")
    c.add_argument("--user")
    c = cmd(evs, "export", cmd_evidence_export,
            "write an AIP version's evidence record (RFC 4998, DER)", json_=True)  # fmt: skip
    c.add_argument("aid")
    c.add_argument("--version", metavar="vN", help="default: the newest")
    c.add_argument("--out", required=True, metavar="FILE.ers")
    c = cmd(evs, "verify", cmd_evidence_verify,
            "check an AIP version's evidence record against its inventory on storage")  # fmt: skip
    c.add_argument("aid")
    c.add_argument("--version", metavar="vN", help="default: the newest")
    c.add_argument("--record", metavar="FILE.ers", help="a record exported earlier, not the kept")
    o = sub.add_parser("oai", help="the tenant's OAI-PMH interface for the Archivportal-D")
    os_ = o.add_subparsers(dest="action", required=True, parser_class=Parser)
    for name, help_ in (("enable", "switch /oai/<tenant>/ on (public, no login)"),
                        ("disable", "switch it off (it then answers 404)")):  # fmt: skip
        c = cmd(os_, name, cmd_oai, help_)
        c.add_argument("tenant")
        c.add_argument("--user")
    f = sub.add_parser("fonds", help="fonds (Bestände)")
    fs = f.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(fs, "create", cmd_fonds_create, "create a fonds in a tenant")
    c.add_argument("tenant", nargs="?")
    c.add_argument("code")
    c.add_argument("--title", required=True)
    c.add_argument("--group", metavar="PATH", help="its classification group (like A/A2)")
    c.add_argument("--user")
    c = cmd(fs, "edit", cmd_fonds_edit, "change a fonds' title or classification group")
    c.add_argument("code")
    c.add_argument("--tenant")
    c.add_argument("--title")
    c.add_argument("--group", metavar="PATH", help="its classification group ('' for none)")
    c.add_argument("--user")
    c = cmd(fs, "list", cmd_fonds_list, "list fonds")
    c.add_argument("--tenant")
    tk = sub.add_parser("tektonik", help="the tenant's classification (Tektonik)")
    tks = tk.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(tks, "create", cmd_tektonik, "create a classification group")
    c.add_argument("tenant", metavar="TENANT")
    c.add_argument("path", metavar="PATH", help="signatures from the top, like A/A2")
    c.add_argument("--title", required=True)
    c.add_argument("--user")
    c = cmd(tks, "list", cmd_tektonik, "the groups with their fonds")
    c.add_argument("--tenant")
    c = cmd(sub, "ingest", cmd_ingest, "ingest a SIP (folder, ZIP, BagIt bag; optional table)")
    c.add_argument("path")
    c.add_argument("--tenant")
    c.add_argument("--fonds")
    c.add_argument("--metadata", help="metadata table (.csv or .xlsx), one row per file")
    c.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="map a table column to a field (file, a Dublin Core element, extra)",
    )
    c.add_argument(
        "--unlisted",
        choices=UNLISTED,
        default="reject",
        help="payload files the table does not name: reject (default) or unit",
    )
    c.add_argument("--source", help="who delivered (recorded with the accession)")
    c.add_argument("--user")
    a = sub.add_parser("accession", help="accessions (Zugänge)")
    as_ = a.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(as_, "list", cmd_accession_list, "list accessions")
    c.add_argument("--tenant")
    j = sub.add_parser("job", help="ingest jobs from the web and the API")
    js = j.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(js, "list", cmd_job, "ingest jobs, newest first")
    c.add_argument("--tenant")
    # the states of magazin.ingest.models.IngestJob (not importable before Django is set up)
    c.add_argument("--state", choices=["queued", "running", "done", "rejected", "failed"])
    c.add_argument("--limit", type=int, default=50)
    c = cmd(js, "show", cmd_job, "one job as GET /api/jobs/{id}/ reports it")
    c.add_argument("id")
    c = cmd(js, "retry", cmd_job, "queue a failed job again (after its cause was dealt with)")
    c.add_argument("id")
    c.add_argument("--user")
    q = sub.add_parser("quarantine", help="rejected SIPs")
    qs = q.add_subparsers(dest="qaction", required=True, parser_class=Parser)
    c = cmd(qs, "list", cmd_quarantine, "list open quarantine entries")
    c.add_argument("--tenant")
    c.add_argument("--all", action="store_true", help="also retried and discarded entries")
    for name, help_ in (
        ("show", "show one entry with its problems"),
        ("retry", "ingest the SIP again (after it was corrected)"),
        ("discard", "close the entry without ingest (the record is kept)"),
    ):
        c = cmd(qs, name, cmd_quarantine, help_)
        c.add_argument("id")
        if name == "discard":
            c.add_argument("--reason")
        if name == "retry":
            c.add_argument("--user")
    a = sub.add_parser("aip", help="AIPs (root units)")
    as_ = a.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(as_, "list", cmd_aip_list, "list AIPs")
    c.add_argument("--tenant")
    c.add_argument("--fonds")
    c = cmd(as_, "show", cmd_aip_show, "show one AIP")
    c.add_argument("aid")
    c = cmd(as_, "edit", cmd_aip_edit, "correct a unit's description (a new OCFL version)")
    c.add_argument("aid")
    c.add_argument("--title")
    c.add_argument("--set", action="append", metavar="FIELD=VALUE", help="a descriptive field")
    c.add_argument("--unset", action="append", metavar="FIELD")
    c.add_argument("--dc", action="append", metavar="ELEMENT=VALUE", help="Dublin Core values")
    c.add_argument("--user")
    c = cmd(sub, "export", cmd_export, "export a DIP (ZIP with files, METS, PREMIS, DC)")
    c.add_argument("aid")
    c.add_argument("--out", required=True)
    c.add_argument("--representation", metavar="NAME",
                   help="only this representation's files (default: all of them)")  # fmt: skip
    c.add_argument("--format", default="zip", choices=["zip", "eark-sip", "eark-aip", "eark-dip"],
                   help="zip: the DIP as Magazin writes it; or an E-ARK package")  # fmt: skip
    c = cmd(sub, "audit", cmd_audit, "re-hash every copy; --repair restores bad copies")
    c.add_argument("aids", nargs="*", metavar="AID")
    c.add_argument("--location")
    c.add_argument("--repair", action="store_true")
    c.add_argument(
        "--report", action="store_true", help="how far the fixity cycle is (checks nothing)"
    )
    c.add_argument("--user")
    lo = sub.add_parser("location", help="storage locations")
    los = lo.add_subparsers(dest="laction", required=True, parser_class=Parser)
    cmd(los, "list", cmd_location, "every location with its state, objects, bytes, free space")
    for name, help_ in (
        ("show", "one location in detail"),
        ("check", "can it be reached and written; conditional writes; object lock"),
        ("replicate", "fill the location with every object of every tenant (resumable)"),
        ("retire", "take the location out of [replication] (refused while it holds the only "
                   "intact copy of anything)"),
    ):  # fmt: skip
        c = cmd(los, name, cmd_location, help_)
        c.add_argument("name", metavar="NAME")
        if name in ("replicate", "retire"):
            c.add_argument("--user")
        if name == "replicate":
            c.add_argument("--max-mb-per-s", type=float, help="read at most this fast")
    cat = sub.add_parser("catalog", help="the catalog (database index)")
    cs = cat.add_subparsers(dest="action", required=True, parser_class=Parser)
    cmd(cs, "rebuild", cmd_rebuild, "rebuild the catalog from storage alone")
    fm = sub.add_parser("formats", help="format identification")
    fms = fm.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(fms, "identify", cmd_formats_identify, "identify files (folders recursively)")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c = cmd(fms, "update", cmd_formats_update, "install newer PRONOM signature files")
    c.add_argument("droid", metavar="DROID.xml")
    c.add_argument("container", nargs="?", metavar="CONTAINER.xml")
    cmd(fms, "info", cmd_formats_info, "the signature files in use")
    c = cmd(fms, "validate", cmd_formats_validate,
            "validate stored AIPs again (a new version where a result changed)")  # fmt: skip
    c.add_argument("aids", nargs="*", metavar="AID")
    c.add_argument("--tenant")
    c.add_argument("--fonds")
    c.add_argument("--user")
    c = cmd(fms, "risk", cmd_formats_risk, "the holdings by format and risk (format register)")
    c.add_argument("--tenant")
    c.add_argument("--fonds")
    rs = c.add_subparsers(dest="risk_action", required=False, parser_class=Parser)
    c = cmd(rs, "set", cmd_formats_risk, "change the tenant's entry of the format register")
    c.add_argument("puid", metavar="PUID")
    c.add_argument("--tenant")
    c.add_argument("--risk", choices=RISKS)
    c.add_argument("--plan", help="the preservation plan to apply ('' for none)")
    c.add_argument("--note")
    c.add_argument("--user")
    c = cmd(fms, "validation", cmd_formats_validation,
            "validation results per format, and every file not valid")  # fmt: skip
    c.add_argument("--tenant")
    c.add_argument("--fonds")
    pr = sub.add_parser("preserve", help="preservation plans and their runs (migration)")
    prs = pr.add_subparsers(dest="action", required=True, parser_class=Parser)
    cmd(prs, "plans", cmd_preserve_plans, "the preservation plans")
    c = cmd(prs, "run", cmd_preserve_run, "migrate the units a plan takes, as new versions")
    c.add_argument("plan", metavar="PLAN")
    c.add_argument("--aid", dest="aids", action="append", metavar="AID")
    c.add_argument("--tenant")
    c.add_argument("--fonds")
    c.add_argument("--dry-run", action="store_true", help="count, change nothing")
    c.add_argument("--jobs", type=int, default=1, help="files migrated at once (processes)")
    c.add_argument("--user")
    xd = sub.add_parser("xdomea", help="xdomea records transfer (Aussonderung)")
    xds = xd.add_subparsers(dest="area", required=True, parser_class=Parser)
    sch = xds.add_parser("schemas", help="the official xdomea XSD sets")
    schs = sch.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(schs, "install", cmd_xdomea_schemas_install, "check, compile and install XSD sets")
    c.add_argument("src", metavar="SRC", help="a folder or ZIP: one version or version folders")
    c.add_argument("--xoev", metavar="DIR", help="the XÖV helper schemas (default SRC/xoev)")
    cmd(schs, "list", cmd_xdomea_schemas_list, "the installed versions")
    from magazin.xdomea.cli import register as register_xdomea

    register_xdomea(xds, cmd)
    u = sub.add_parser("user", help="users of the web UI and API")
    us = u.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(us, "create", cmd_user_create, "create a user in a tenant, with a role")
    c.add_argument("username", metavar="USERNAME")
    c.add_argument("--tenant")
    c.add_argument("--role", required=True, choices=["operator", "admin", "archivist", "reader"])
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    c.add_argument("--token", action="store_true", help="create and print an API token")
    c = cmd(us, "token", cmd_user_token, "a new named API token for a user, or --revoke one")
    c.add_argument("username", metavar="USERNAME")
    c.add_argument("--name", help="the token's name (default: token-N)")
    c.add_argument("--revoke", metavar="NAME", help="revoke the user's token of this name")
    c = cmd(us, "list", cmd_user_list, "users with tenant, role, active, last login")
    c.add_argument("--tenant")
    ac = sub.add_parser("access", help="closure periods and access decisions")
    acs = ac.add_subparsers(dest="action", required=True, parser_class=Parser)
    c = cmd(acs, "profile", cmd_access, "the closure-period rules a tenant follows")
    c.add_argument("tenant", metavar="TENANT")
    c.add_argument("profile", choices=["federal", "lsa"])
    c.add_argument("--user")
    c = cmd(acs, "show", cmd_access, "a unit's access status")
    c.add_argument("aid")
    # decisions on several units at once: the AIDs given (with their parts) or a whole fonds
    for name, help_ in (
        ("release", "open units (with their parts) or a whole fonds for everyone before "
                    "their period ends"),
        ("publish", "mark units or a whole fonds 'zur Veröffentlichung bestimmt' (a new "
                    "version each)"),
    ):  # fmt: skip
        c = cmd(acs, name, cmd_access, help_)
        c.add_argument("aids", nargs="*", metavar="AID")
        c.add_argument("--fonds", metavar="CODE")
        c.add_argument("--tenant")
        c.add_argument("--reason", required=True)
        c.add_argument("--user")
    c = cmd(acs, "grant", cmd_access, "shorten the closure period for one reader")
    c.add_argument("aid")
    c.add_argument("--reader", required=True)
    c.add_argument("--reason", required=True)
    c.add_argument("--purpose", required=True)
    c.add_argument("--expires", required=True, metavar="YYYY-MM-DD")
    c.add_argument("--user")
    c = cmd(acs, "revoke", cmd_access, "end a reader's grant (--reader) or a release (--release)")
    c.add_argument("aid")
    c.add_argument("--reader")
    c.add_argument("--release", action="store_true", help="withdraw the unit's release")
    c.add_argument("--reason", required=True)
    c.add_argument("--user")
    c = cmd(acs, "log", cmd_access_log, "who viewed, downloaded, searched what (newest first)")
    c.add_argument("--tenant")
    c.add_argument("--unit", metavar="AID")
    c.add_argument("--user", dest="user_name", metavar="USER")
    c.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    c.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    c.add_argument("--limit", type=int, default=1000)
    c = cmd(sub, "search", cmd_search, "full-text search over metadata and file text")
    c.add_argument("query", metavar="QUERY")
    c.add_argument("--tenant")
    c.add_argument("--fonds")
    c.add_argument("--limit", type=int, default=50)
    c.add_argument(
        "--from",
        dest="date_from",
        type=int,
        metavar="YEAR",
        help="date range reaches this year or later",
    )
    c.add_argument("--to", dest="date_to", type=int, metavar="YEAR",
                   help="date range starts this year or earlier")  # fmt: skip
    cmd(
        sub,
        "index",
        cmd_index,
        "extract the text of new files for the search now and bring the full-text index up to date",
    )
    c = cmd(
        sub,
        "worker",
        cmd_worker,
        "background work: ingest jobs, xdomea inboxes, text extraction, continuously",
    )
    c.add_argument("--interval", type=float, default=30.0, metavar="SECONDS")
    c.add_argument("--once", action="store_true", help="one round, then stop")
    c.add_argument("--user")
    c = cmd(sub, "serve", cmd_serve, "run the web UI", json_=False)
    c.add_argument("--host", default="127.0.0.1")
    c.add_argument("--port", default="8000")
    c.add_argument(
        "--poll-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="run the background work in-process: ingest jobs at once, the xdomea inboxes "
        "this often (0: leave all of it to `magazin worker`)",
    )
    return p


def _database_unreachable(error: Exception) -> str:
    """Which database could not be reached and why (DATABASE_URL without its password)."""
    from django.db import connection

    db = connection.settings_dict
    where = f"{db.get('NAME')} on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"error: cannot reach the database {where} (DATABASE_URL): {reason}"


def _version() -> str:
    from magazin import __version__

    return f"magazin {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _setup_django()
        from django.db import OperationalError

        from magazin.archive import init_archive, open_archive
        from magazin.core.config import ConfigError

        try:
            home = init_archive() if args.fn is cmd_init else open_archive()
        except ConfigError as e:
            print(f"magazin: {e}", file=sys.stderr)
            return EXIT_FAIL
        except OperationalError as e:  # PostgreSQL not there, or the database not made
            print(f"magazin: {_database_unreachable(e)}", file=sys.stderr)
            return EXIT_FAIL
        code = args.fn(args, home)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except UsageError as e:
        print(f"magazin: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Failure as e:
        print(f"magazin: {e}", file=sys.stderr)
        return EXIT_FAIL
    except BrokenPipeError:
        # the reader went away (`magazin aip list | head`): end quietly, and keep Python from
        # complaining about the closed pipe when it flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except (OSError, RuntimeError, ValueError, OcflError) as e:
        # an operator-facing message (disk full, unreadable storage, …); the traceback only
        # with MAGAZIN_DEBUG=1
        if os.environ.get("MAGAZIN_DEBUG") == "1":
            raise
        print(f"magazin: error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
