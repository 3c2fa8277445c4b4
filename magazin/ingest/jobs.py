"""Ingest jobs for the web and the API. The upload is kept under MAGAZIN_HOME/uploads/<job>/
until its AIPs are stored; the work is a django-tasks task (database backend) that `magazin
worker` — or `magazin serve` in-process — runs; while it runs, its progress is written to the
job's row, so any web process can show it."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from magazin.access import bulk
from magazin.catalog.models import Fonds, Tenant, Unit
from magazin.catalog.services import iso
from magazin.core.config import Home, load_home
from magazin.core.i18n import N_
from magazin.core.ids import new_ulid
from magazin.core.ingest import IngestRequest
from magazin.core.sip import UNLISTED
from magazin.core.staging import Progress
from magazin.core.xdomea.messages import NAME
from magazin.preservation.runs import plan_named, run_plan
from magazin.xdomea.inbox import deliver
from magazin.xdomea.models import Agency

from . import services
from .models import IngestJob, QuarantineEntry

# share of the whole job per phase of an ingest: (start %, width %)
PHASES = {"copy": (0, 45), "verify": (45, 30), "identify": (75, 10), "store": (85, 15),
          "decide": (0, 100), "migrate": (0, 100)}  # fmt: skip
TABLE_SUFFIXES = (".csv", ".xlsx")


log = logging.getLogger("magazin.jobs")


class JobError(Exception):
    """The request for a job names something that is not there or not allowed."""


def safe_name(name: str, fallback: str) -> str:
    """A file name from a browser, without folders, control characters or leading dots."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip().lstrip(".")
    return name[:200] or fallback


class JobProgress(Progress):
    """Counts what the ingest reports (from several threads) and writes it to the job's row
    twice a second from a thread of its own."""

    def __init__(self, job: IngestJob, interval: float = 0.5):
        self.job, self.interval = job, interval
        self.lock = threading.Lock()
        self.phase, self.n, self.total = "", 0, 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, total: int, what: str) -> None:
        with self.lock:
            self.phase, self.n, self.total = what, 0, total

    def advance(self, n: int) -> None:
        with self.lock:
            self.n += n

    def done(self) -> None:
        with self.lock:
            self.n = self.total

    def percent(self) -> int:
        with self.lock:
            start, width = PHASES.get(self.phase, (0, 0))
            part = min(1.0, self.n / self.total) if self.total else 0.0
        return min(99, int(start + width * part))  # 100 only when the job has finished

    def fields(self) -> dict:
        with self.lock:
            phase, n, total = self.phase, self.n, self.total
        return {"phase": phase, "done": n, "total": total, "progress": self.percent()}

    def __enter__(self) -> JobProgress:
        # Another thread's connection sees the job row only once it is committed: not when
        # the job runs inside a transaction (a test, or a caller's atomic block).
        if not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._beat, daemon=True, name="job-progress")
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _beat(self) -> None:
        from django.db import connection as own

        last = None
        try:
            while not self._stop.wait(self.interval):
                f = self.fields()
                if f != last:
                    try:
                        IngestJob.objects.filter(pk=self.job.pk, state=IngestJob.RUNNING).update(
                            **f
                        )
                        last = f
                    except Exception:  # progress is a courtesy; the job must not fail over it
                        pass
        finally:
            own.close()


# -- creating jobs --------------------------------------------------------------------------


def _fonds(tenant: Tenant, code: str | None) -> Fonds:
    qs = Fonds.objects.filter(tenant=tenant)
    if code:
        f = qs.filter(code=code).first()
        if f is None:
            raise JobError(N_("no fonds {code!r} in {slug}").format(code=code, slug=tenant.slug))
        return f
    found = list(qs[:2])
    if len(found) != 1:
        raise JobError(N_("fonds: choose the fonds to ingest into"))
    return found[0]


def _check_unlisted(unlisted: str) -> None:
    if unlisted not in UNLISTED:
        raise JobError(
            N_("unlisted: {unlisted!r} is not one of {choices}").format(
                unlisted=unlisted, choices=", ".join(UNLISTED)
            )
        )


def _table_name(table) -> str:
    """The name an uploaded metadata table is kept under; only .csv and .xlsx are tables."""
    name = safe_name(table.name, "metadata.csv")
    if not name.lower().endswith(TABLE_SUFFIXES):
        raise JobError(N_("{table}: a metadata table is a .csv or .xlsx file").format(table=name))
    return name


def _open_entry(q: QuarantineEntry) -> None:
    if q.status != "open":
        raise JobError(
            N_("quarantine entry {entry} is {status} already").format(entry=q.qid, status=q.status)
        )


def _keep(upload, target: Path) -> None:
    """Move (or write) an uploaded file to its place, without reading it into memory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(upload, "temporary_file_path"):
        shutil.move(upload.temporary_file_path(), target)
        return
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)


@contextmanager
def _cleanup_on_error(folder: Path) -> Iterator[None]:
    """An upload that could not be kept whole (disk full, say) leaves nothing behind."""
    try:
        yield
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _enqueue(job: IngestJob) -> IngestJob:
    from .tasks import run_ingest_job

    with transaction.atomic():
        job.save()
        job.task_id = str(run_ingest_job.enqueue(job.jid).id)
        job.save(update_fields=["task_id"])
    return job


def _new_job(tenant: Tenant, user: str, **fields) -> IngestJob:
    return IngestJob(jid=new_ulid(), tenant=tenant, user=user, created=timezone.now(), **fields)


def upload_job(
    home: Home,
    tenant: Tenant,
    user: str,
    upload,
    fonds: str | None = None,
    table=None,
    unlisted: str = "reject",
    source: str = "",
    origin: str = "web",
) -> IngestJob:
    """A job for an uploaded ZIP or BagIt container, with an optional metadata table."""
    f = _fonds(tenant, fonds)
    name = safe_name(upload.name, "upload.zip")
    table_name = _table_name(table) if table is not None else ""
    _check_unlisted(unlisted)
    job = _new_job(tenant, user, kind=IngestJob.SIP, name=name, fonds=f.code, origin=origin)
    folder = home.uploads / job.jid
    sip = folder / "sip" / name
    job.upload_dir, job.sip_path = str(folder), str(sip)
    job.options = {"unlisted": unlisted, "source": source}
    with _cleanup_on_error(folder):
        _keep(upload, sip)
        if table is not None:
            t = folder / "table" / table_name
            _keep(table, t)
            job.table_path = str(t)
        return _enqueue(job)


def xdomea_job(
    home: Home, tenant: Tenant, user: str, upload, agency: str, origin: str = "web"
) -> IngestJob:
    """A job for an xdomea container uploaded for one agency: handled exactly as if it had
    arrived in that agency's inbox (its file name must be the message's)."""

    a = Agency.objects.filter(tenant=tenant, code=agency).first()
    if a is None:
        raise JobError(N_("no agency {agency!r} in {slug}").format(agency=agency, slug=tenant.slug))
    name = safe_name(upload.name, "")
    if not NAME.match(name):
        raise JobError(
            f"{name or '(no name)'}: not the file name of an xdomea message "
            "(<ProzessID>_<Nachrichtentyp>.zip, e.g. …_Aussonderung.Aussonderung.0503.zip)"
        )
    job = _new_job(tenant, user, kind=IngestJob.XDOMEA, name=name, agency=a.code, origin=origin)
    folder = home.uploads / job.jid
    job.upload_dir, job.sip_path = str(folder), str(folder / name)
    with _cleanup_on_error(folder):
        _keep(upload, folder / name)
        return _enqueue(job)


def decision_job(
    tenant: Tenant,
    user: str,
    action: str,
    units: list[Unit],
    *,
    reason: str,
    reader: str = "",
    purpose: str = "",
    expires: dt.date | None = None,
    back: str = "",
    origin: str = "web",
) -> IngestJob:
    """Access decisions on many units as one background job (refused at once when the
    request is wrong: AccessError)."""
    bulk.check(tenant, action, reason, reader, purpose, expires)
    options = {"action": action, "aids": [u.aid for u in units], "reason": reason.strip(),
               "reader": reader.strip(), "purpose": purpose.strip(),
               "expires": expires.isoformat() if expires else "", "back": back}  # fmt: skip
    job = _new_job(tenant, user, kind=IngestJob.DECISION, origin=origin,
                   name=f"{action} ({len(units)})", sip_path="", options=options)  # fmt: skip
    return _enqueue(job)


def preserve_job(tenant: Tenant, user: str, plan: str, roots: list[Unit], *,
                 back: str = "", origin: str = "web") -> IngestJob:  # fmt: skip
    """A preservation plan's run over these AIPs as one background job (an unknown plan or
    one whose tool is missing is refused at once: Failure)."""
    plan_named(plan)
    options = {"plan": plan, "aids": [r.aid for r in roots], "back": back}
    job = _new_job(tenant, user, kind=IngestJob.PRESERVE, origin=origin,
                   name=f"{plan} ({len(roots)})", sip_path="", options=options)  # fmt: skip
    return _enqueue(job)


def drop_entries(home: Home, tenant: Tenant) -> dict[str, list[str]]:
    """What the tenant's drop area offers: folders and containers, and metadata tables."""
    root = home.drop_folder(tenant.slug)
    out: dict[str, list[str]] = {"sips": [], "tables": []}
    if not root.is_dir():
        return out
    for p in sorted(root.iterdir(), key=lambda p: p.name):
        if p.name.startswith(".") or p.is_symlink():
            continue
        if p.is_dir() or p.suffix.lower() == ".zip":
            out["sips"].append(p.name)
        elif p.suffix.lower() in TABLE_SUFFIXES:
            out["tables"].append(p.name)
    return out


def _in_drop(home: Home, tenant: Tenant, name: str, kind: str) -> Path:
    offered = drop_entries(home, tenant)[kind]
    if name not in offered:  # also stops "..", "/" and symlinks: only listed names pass
        raise JobError(
            N_("{name!r} is not in the drop area of {slug}").format(name=name, slug=tenant.slug)
        )
    return home.drop_folder(tenant.slug) / name


def drop_job(
    home: Home,
    tenant: Tenant,
    user: str,
    folder: str,
    fonds: str | None = None,
    table: str | None = None,
    unlisted: str = "reject",
    source: str = "",
) -> IngestJob:
    """A job for a folder or container in the tenant's drop area (left there afterwards)."""
    f = _fonds(tenant, fonds)
    sip = _in_drop(home, tenant, folder, "sips")
    t = _in_drop(home, tenant, table, "tables") if table else None
    _check_unlisted(unlisted)
    job = _new_job(tenant, user, kind=IngestJob.SIP, name=folder, fonds=f.code, sip_path=str(sip))
    job.table_path = str(t) if t else ""
    job.options = {"unlisted": unlisted, "source": source, "drop": True}
    return _enqueue(job)


def run_again(job: IngestJob, user: str) -> IngestJob:
    """A job that failed (an internal error, or its worker died too often) is queued again
    once the cause is dealt with; its upload is still there. Refused jobs go through
    quarantine instead."""
    if job.state != IngestJob.FAILED:
        raise JobError(
            N_("job {job} is {state}; only a failed job is run again").format(
                job=job.jid, state=job.state
            )
        )
    if job.sip_path and not Path(job.sip_path).exists():
        raise JobError(
            N_("{name}: the upload is no longer there; upload it again").format(name=job.name)
        )
    job.state, job.progress, job.phase, job.result = IngestJob.QUEUED, 0, "", {}
    job.started = job.finished = None
    job.options = {**job.options, "attempts": 1, "run_again_by": user}
    return _enqueue(job)


def prune_tasks(days: int = 30) -> int:
    """Forget finished task rows older than `days`: the jobs keep their outcome, the task rows
    were only the transport."""
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def replace_table(home: Home, q: QuarantineEntry, table) -> None:
    """A corrected metadata table for a quarantined SIP, uploaded for its retry: kept under
    MAGAZIN_HOME/uploads and named in the entry's request (the old one stays where it was)."""
    _open_entry(q)
    if q.request.get("xdomea"):
        raise JobError(N_("an xdomea message has no metadata table"))
    name = _table_name(table)
    folder = home.uploads / f"table-{new_ulid()}"
    with _cleanup_on_error(folder):
        _keep(table, folder / name)
    q.request = {**q.request, "table": str(folder / name)}
    q.save(update_fields=["request"])


def retry_job(tenant: Tenant, user: str, q: QuarantineEntry) -> IngestJob:
    """A job that puts a quarantined SIP or message through ingest again."""
    _open_entry(q)
    job = _new_job(
        tenant,
        user,
        kind=IngestJob.RETRY,
        name=Path(q.sip_path).name,
        fonds=q.fonds,
        agency=q.request.get("agency") or "",
        sip_path=q.sip_path,
    )
    job.options = {"quarantine": q.qid}
    return _enqueue(job)


# -- running jobs ---------------------------------------------------------------------------


class CommandLineJob:
    """An ingest run by `magazin ingest` in the foreground, recorded as a job like those of
    the web and the API, so that it shows in the job list and the activity."""

    def __init__(self, tenant: Tenant, user: str, req: IngestRequest):
        now = timezone.now()
        self.job = IngestJob.objects.create(
            jid=new_ulid(), tenant=tenant, user=user, kind=IngestJob.SIP, origin="cli",
            name=Path(req.path).name or str(req.path), fonds=req.fonds, sip_path=str(req.path),
            table_path=str(req.table or ""), state=IngestJob.RUNNING, created=now, started=now,
            options={"unlisted": req.unlisted, "source": req.source or "",
                     "worker": _worker_id()},
        )  # fmt: skip

    def finish(self, result: dict, quarantine: str = "") -> None:
        rejected = result.get("status") == "rejected"
        self.job.state = IngestJob.REJECTED if rejected else IngestJob.DONE
        self.job.result, self.job.quarantine = result, quarantine
        self.job.progress, self.job.finished = 100, timezone.now()
        self.job.save()

    def fail(self, reason: str) -> None:
        self.job.state, self.job.finished = IngestJob.FAILED, timezone.now()
        self.job.result = _failed(self.job, reason)
        self.job.save()


def run_job(jid: str, home: Home | None = None) -> IngestJob:
    """Run a queued job to its end and record the outcome on it."""

    job = IngestJob.objects.select_related("tenant").get(jid=jid)
    if job.state != IngestJob.QUEUED:
        return job  # taken by another worker, or finished
    home = home or load_home()
    job.state, job.started = IngestJob.RUNNING, timezone.now()
    job.save(update_fields=["state", "started"])
    log.info("ingest job %s (%s, %s) started", job.jid, job.tenant.slug, job.name)
    state, result, quarantine = IngestJob.FAILED, {}, ""
    try:
        with JobProgress(job) as progress:
            if job.kind == IngestJob.SIP:
                req = IngestRequest(
                    Path(job.sip_path),
                    job.tenant.slug,
                    job.fonds,
                    Path(job.table_path) if job.table_path else None,
                    {},
                    job.options.get("unlisted", "reject"),
                    job.user,
                    job.options.get("source") or None,
                )
                r, q = services.run_ingest(home, req, progress)
                result, quarantine = r.as_dict(), q.qid if q else ""
                state = IngestJob.REJECTED if r.status == "rejected" else IngestJob.DONE
            elif job.kind == IngestJob.XDOMEA:
                agency = Agency.objects.select_related("tenant", "fonds").get(
                    tenant=job.tenant, code=job.agency
                )
                h = deliver(home, agency, Path(job.sip_path), job.user)
                result, quarantine = h.as_dict(), h.quarantine or ""
                state = IngestJob.REJECTED if h.status == "rejected" else IngestJob.DONE
            elif job.kind == IngestJob.DECISION:
                result = bulk.run(home, job.tenant, job.user, job.options, progress)
                state = IngestJob.DONE
            elif job.kind == IngestJob.PRESERVE:
                roots = list(Unit.objects.filter(tenant=job.tenant, parent=None,
                                                 aid__in=job.options["aids"])
                             .select_related("tenant").order_by("aid"))  # fmt: skip
                result = run_plan(home, plan_named(job.options["plan"]), roots, job.user,
                                  progress=progress)  # fmt: skip
                state = IngestJob.DONE
            else:
                q = QuarantineEntry.objects.get(qid=job.options["quarantine"])
                result, ok = services.retry_entry(home, q, job.user, progress)
                quarantine = q.qid if not ok else ""
                state = IngestJob.DONE if ok else IngestJob.REJECTED
    except Exception as e:
        result = _failed(job, f"{type(e).__name__}: {e}")
        raise
    finally:
        job.state, job.result, job.quarantine = state, result, quarantine
        job.finished = timezone.now()
        if state == IngestJob.DONE:
            job.progress, job.phase = 100, ""
        job.save()
        log.info("ingest job %s %s: %d AIP(s)", job.jid, state, len(result.get("aips", [])))
        if state == IngestJob.DONE and job.upload_dir and job.kind != IngestJob.RETRY:
            shutil.rmtree(job.upload_dir, ignore_errors=True)  # the AIPs hold it now
    return job


def _failed(job: IngestJob, reason: str) -> dict:
    """The result of a job that failed (not a refused SIP: that has its problems)."""
    return {"status": "failed", "errors": [{"path": job.name, "reason": reason, "code": "failed"}]}


def _worker_id() -> str:
    return f"magazin-{os.uname().nodename}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


MAX_ATTEMPTS = 3


def recover_abandoned() -> list[str]:
    """Jobs whose worker process on this machine ended while they ran (killed, machine
    restarted) are queued again: ingest is idempotent, so a second run stores what the first
    did not and nothing twice. After MAX_ATTEMPTS a job fails. Returns the job ids."""
    from django_tasks_db.models import DBTaskResult

    host = os.uname().nodename
    out = []
    # a `magazin ingest` that was killed: its job ends as failed (running it again completes
    # the delivery)
    for job in IngestJob.objects.filter(origin="cli", state=IngestJob.RUNNING):
        prefix, _, pid = str(job.options.get("worker", "")).rpartition("-")
        if prefix == f"magazin-{host}" and pid.isdigit() and not _alive(int(pid)):
            job.state, job.finished = IngestJob.FAILED, timezone.now()
            job.result = _failed(job, N_("the command ended while it ran; run it again"))
            job.save()
            out.append(job.jid)
    for t in DBTaskResult.objects.running():
        wid = (t.worker_ids or [""])[-1]
        prefix, _, pid = wid.rpartition("-")
        if prefix != f"magazin-{host}" or not pid.isdigit() or _alive(int(pid)):
            continue
        t.set_failed(RuntimeError(N_("worker {wid} ended while the task ran").format(wid=wid)))
        jid = (t.task_result.args or [None])[0]
        job = IngestJob.objects.filter(jid=jid, state=IngestJob.RUNNING).first()
        if job is None:
            continue
        attempts = int(job.options.get("attempts", 1))
        if attempts >= MAX_ATTEMPTS:
            job.state, job.finished = IngestJob.FAILED, timezone.now()
            job.result = _failed(job, f"the worker ended {attempts} times while this job ran")
            job.save()
        else:
            job.state, job.options = IngestJob.QUEUED, {**job.options, "attempts": attempts + 1}
            _enqueue(job)
        out.append(job.jid)
    return out


def run_pending(limit: int | None = None) -> int:
    """Run the queued background tasks (ingest jobs) one after another; returns how many ran.
    Several workers may do this at once: each task is claimed in a locked transaction."""
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    worker_id = _worker_id()
    ran = 0
    while limit is None or ran < limit:
        with exclusive_transaction():
            t = DBTaskResult.objects.ready().get_locked()
            if t is not None:
                t.claim(worker_id)
        if t is None:
            return ran
        try:
            rv = t.task.call(*t.task_result.args, **t.task_result.kwargs)
            t.set_successful(rv)
        except Exception as e:
            t.set_failed(e)
        ran += 1
    return ran


# -- reporting -------------------------------------------------------------------------------


def job_dict(job: IngestJob) -> dict:
    """The job as the API reports it: {"state", "progress", "aips", "errors", …}."""
    r, options = job.result or {}, job.options or {}
    decision = job.kind == IngestJob.DECISION
    preserve = job.kind == IngestJob.PRESERVE
    return {
        "job": job.jid,
        "state": job.state,
        "progress": job.progress,
        "phase": job.phase,
        "kind": job.kind,
        "origin": job.origin,
        "name": job.name,
        "tenant": job.tenant.slug,
        "fonds": job.fonds or None,
        "agency": job.agency or None,
        "user": job.user,
        "created": iso(job.created),
        "started": iso(job.started),
        "finished": iso(job.finished),
        "status": r.get("status"),
        "accession": r.get("accession"),
        "aips": r.get("aips", []),
        "errors": r.get("errors", []),
        "warnings": r.get("warnings", []),
        "quarantine": job.quarantine or None,
        # access decisions on many units: what was asked, how many units and decisions
        "action": options.get("action") if decision else None,
        "units": len(options.get("aids", [])) if decision else None,
        "decisions": r.get("decisions"),
        "back": options.get("back") or None,
        # a preservation plan's run: the plan and its summary (as `magazin preserve run`)
        "plan": options.get("plan") if preserve else None,
        "migrated": r.get("migrated") if preserve else None,
        "skipped": r.get("skipped") if preserve else None,
        "failed": r.get("failed", []) if preserve else [],
    }
