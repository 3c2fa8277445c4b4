"""Processing the agencies' inboxes: every message is read and validated before anything else,
then handled by its type (0501 offer, 0503 delivery, 0505 confirmation) and answered (0504,
0507, 0506). A message leaves the inbox only when it is handled: into the archive's copy of
the process, or into quarantine with a report. Running a poll again over the same message
stores nothing twice and answers with the same AIDs.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from lxml import etree

from magazin.catalog.services import DjangoCatalog
from magazin.core.aip.model import Agent, AipEvent
from magazin.core.aip.xml import parse_xml
from magazin.core.config import Home
from magazin.core.formats.identify import default_identifier
from magazin.core.i18n import N_
from magazin.core.ids import new_ulid, now
from magazin.core.ingest import Ingest, IngestRequest
from magazin.core.problems import Problem, RejectedSIP
from magazin.core.quarantine import write_report
from magazin.core.records import user_agent
from magazin.core.xdomea import write
from magazin.core.xdomea.messages import NAME, Message, MessageError, read_message
from magazin.core.xdomea.objects import ObjectError, Sgo, read_objects
from magazin.core.xdomea.schemas import SchemaError
from magazin.core.xdomea.takeover import check_delivery
from magazin.ingest.models import IngestJob, QuarantineEntry

from .keeping import keep_unkept, keeping, messages_dir
from .models import Agency, Process, ProcessMessage
from .services import add_objects, record_sent, stored_aids

# an unreadable ZIP younger than this is left in the inbox: the sender may still be writing it
SETTLE_SECONDS = 60
AFTER_APPRAISAL = (Process.APPRAISED, Process.CONFIRMED, Process.AWAITING, Process.COMPLETED)


@dataclass
class Handled:
    """What became of one message in an inbox."""

    file: str
    tenant: str
    agency: str
    process_id: str | None = None
    code: str | None = None
    status: str = "accepted"  # accepted | duplicate | stored | partial | rejected | waiting
    errors: list[Problem] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    aips: list[dict] = field(default_factory=list)
    quarantine: str | None = None

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "tenant": self.tenant,
            "agency": self.agency,
            "process_id": self.process_id,
            "code": self.code,
            "status": self.status,
            "errors": [e.as_dict() for e in self.errors],
            "replies": self.replies,
            "aips": self.aips,
            "quarantine": self.quarantine,
        }


@contextmanager
def _inbox_lock(home: Home) -> Iterator[None]:
    """One poll or delivery at a time (CLI, worker, web), across processes."""
    lock_path = home.path / "xdomea" / "poll.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def poll(home: Home, tenant: str | None = None, user: str = "magazin") -> list[Handled]:
    """Process every message waiting in the inboxes (of one tenant, or all) once."""
    out: list[Handled] = []
    with _inbox_lock(home):
        keep_unkept(home, user)  # what a killed run left for storage
        agencies = Agency.objects.select_related("tenant", "fonds").order_by("tenant__slug", "code")
        if tenant:
            agencies = agencies.filter(tenant__slug=tenant)
        for agency in agencies:
            inbox = Path(agency.inbox)
            if not inbox.is_dir():
                out.append(
                    Handled(
                        str(inbox),
                        agency.tenant.slug,
                        agency.code,
                        status="rejected",
                        errors=[Problem(str(inbox), N_("the inbox folder is missing"), "no-inbox")],
                    )
                )
                continue
            waiting = [
                p
                for p in inbox.iterdir()
                if not p.name.startswith(".") and not p.name.endswith(".part") and p.is_file()
            ]

            def order(p: Path):
                m = NAME.match(p.name)
                return (p.stat().st_mtime_ns, m["code"] if m else "9999", p.name)

            for path in sorted(waiting, key=order):
                h = Desk(home, agency, user).handle(path)
                if h.code == "0503" and h.status != "waiting":
                    _record_job(agency, user, path.name, h)
                out.append(h)
    return out


def _record_job(agency: Agency, user: str, name: str, h: Handled) -> None:
    """A delivery taken from an inbox shows in the job list like the ingests of the web,
    the API and the command line (origin "xdomea")."""
    now_ = timezone.now()
    IngestJob.objects.create(
        jid=new_ulid(), tenant=agency.tenant, user=user, kind=IngestJob.XDOMEA,
        origin="xdomea", name=name, agency=agency.code, sip_path="",
        state=IngestJob.REJECTED if h.status == "rejected" else IngestJob.DONE,
        progress=100, result=h.as_dict(), quarantine=h.quarantine or "",
        created=now_, started=now_, finished=now_,
    )  # fmt: skip


class Desk:
    """Handles the messages of one agency."""

    def __init__(self, home: Home, agency: Agency, user: str):
        self.home, self.agency, self.user = home, agency, user

    # -- entry ------------------------------------------------------------------------------

    def handle(self, path: Path) -> Handled:
        """Handle one message; the process it concerns is then kept in storage."""
        with keeping(self.home, self.agency, self.user) as touched:
            h = self._handle(path)
            if h.process_id is not None and h.status != "waiting":  # a waiting one changed nothing
                touched.update(Process.objects.filter(agency=self.agency, process_id=h.process_id)
                               .values_list("pk", flat=True))  # fmt: skip
        return h

    def _handle(self, path: Path) -> Handled:
        a = self.agency
        m = NAME.match(path.name)
        pid, code = (m["pid"], m["code"]) if m else (None, None)
        h = Handled(path.name, a.tenant.slug, a.code, pid, code)
        process = (
            Process.objects.filter(agency=a, process_id=pid).first() if pid is not None else None
        )
        try:
            msg = read_message(path, self.home.path, self.home.limits, keep_open=code == "0503")
        except MessageError as e:
            problem = Problem(e.path, e.reason, e.code)
            if e.code == "bad-zip" and time.time() - path.stat().st_mtime < SETTLE_SECONDS:
                # most likely still being written by the records system: the next poll sees it
                h.status, h.errors = "waiting", [problem]
                return h
            if process is None and pid is not None and code in ("0501", "0503"):
                # the error is recorded on the process the file name names
                process = self._new_process(pid, "", Process.REJECTED)
            return self._reject(h, path, process, None, [problem])
        try:
            wrong = self._wrong_sender(msg)
            if wrong:
                return self._reject(h, path, process, msg, [wrong])
            if code == "0501":
                return self._offer(h, path, msg, process)
            if code == "0505":
                return self._confirmation(h, path, msg, process)
            if code == "0503":
                return self._delivery(h, path, msg, process)
            return self._reject(
                h,
                path,
                process,
                msg,
                [
                    Problem(
                        path.name,
                        N_(
                            "{message}: not a message an archive receives in an Aussonderung "
                            "(expected 0501, 0503 or 0505)"
                        ).format(message=msg.name),
                        "unexpected-message",
                    )
                ],
            )
        finally:
            msg.close()

    def _wrong_sender(self, msg: Message) -> Problem | None:
        if not self.agency.authority_id:
            return None
        ns = msg.ns
        kennung = msg.root.find(f"{{{ns}}}Kopf/{{{ns}}}Absender/{{{ns}}}Behoerdenkennung")
        found = ""
        if kennung is not None:
            for name in ("Behoerdenschluessel", "Kennung"):
                el = kennung.find(f"{{{ns}}}{name}")
                if el is not None:
                    found = (el.findtext("code") or "").strip()
        if found.casefold() == self.agency.authority_id.strip().casefold():
            return None
        return Problem(
            msg.path.name,
            N_(
                "sent by authority {found!r}, but this inbox belongs to {agency} ({authority})"
            ).format(
                found=found or "(none given)",
                agency=self.agency.name,
                authority=self.agency.authority_id,
            ),
            "wrong-sender",
        )

    # -- keeping, answering, refusing --------------------------------------------------------

    def _keep(self, process: Process, path: Path, msg: Message) -> Path:
        """The archive's copy of a received message: its XML as received (the primary
        documents of a 0503 live in the AIPs, a refused container in quarantine)."""
        d = messages_dir(self.home, self.agency, process.process_id)
        d.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        target = d / f"in-{stamp}-{path.name[:-4]}.xml"
        target.write_bytes(msg.xml)
        return target

    def _received(
        self, process: Process, path: Path, msg: Message, status: str, copy: Path | None
    ) -> ProcessMessage:
        return ProcessMessage.objects.create(
            process=process,
            code=msg.code,
            name=path.name,
            direction="in",
            status=status,
            time=timezone.now(),
            sha256=hashlib.sha256(msg.xml).hexdigest(),
            path=str(copy or ""),
        )

    def _send(self, h: Handled, process: Process, code: str, root) -> None:
        version = etree.QName(root).namespace.rsplit(":", 1)[-1]  # the version replied to
        try:
            xml = write.serialise(root, self.home.path, version)
        except (SchemaError, write.WriteError) as e:
            h.errors.append(
                Problem(write.container_name(process.process_id, code), str(e), "reply")
            )
            return
        sent = record_sent(self.home, process, code, xml)
        h.replies.append(sent.name)

    def _quarantine(self, h: Handled, path: Path, problems: list[Problem], summary: str) -> str:
        qid, created = new_ulid(), now()
        qdir = self.home.quarantine / qid
        qdir.mkdir(parents=True, exist_ok=True)
        kept = qdir / path.name
        shutil.move(str(path), kept)  # out of the inbox: it is not processed again by itself
        request = {
            "xdomea": True,
            "tenant": self.agency.tenant.slug,
            "fonds": self.agency.fonds.code,
            "agency": self.agency.code,
            "inbox": self.agency.inbox,
            "path": str(kept),
            "user": self.user,
        }
        write_report(self.home.quarantine, qid, created, str(kept), request, problems, summary)
        QuarantineEntry.objects.create(
            qid=qid,
            created=dt.datetime.fromisoformat(created),
            sip_path=str(kept),
            tenant=self.agency.tenant.slug,
            fonds=self.agency.fonds.code,
            request=request,
            problems=[p.as_dict() for p in problems],
        )
        h.quarantine = qid
        return qid

    def _reject(
        self,
        h: Handled,
        path: Path,
        process: Process | None,
        msg: Message | None,
        problems: list[Problem],
        results: list[write.ObjectResult] | None = None,
    ) -> Handled:
        """Refuse a message: quarantine, error on the process, a 0506 for a 0503."""
        h.status = "rejected"
        h.errors += problems
        text = "; ".join(f"{p.path}: {p.reason} [{p.code}]" for p in problems)
        if msg is not None:
            msg.close()
        qid = self._quarantine(
            h, path, problems, "The xdomea message was refused; nothing was stored."
        )
        if process is None:
            return h
        process.error = text
        process.updated = timezone.now()
        process.save(update_fields=["error", "updated"])
        ProcessMessage.objects.create(
            process=process,
            code=h.code or "",
            name=path.name,
            direction="in",
            status="rejected",
            time=timezone.now(),
            sha256=hashlib.sha256(msg.xml).hexdigest() if msg is not None else "",
            error=text,
            quarantine=qid,
        )
        if h.code == "0503":  # a faulty delivery is answered; a faulty 0501 or 0505 is not
            reply_to = msg.root if msg is not None else self._offer_root(process)
            if reply_to is not None:
                if results is None:
                    results = self._expected_failures(process, problems)
                if results:
                    version = msg.version if msg is not None else process.version
                    self._send(h, process, "0506", write.import_report(reply_to, version, results))
        return h

    def _offer_root(self, process: Process):
        m = process.messages.filter(direction="in", status="accepted").exclude(path="").first()
        if m is None or not Path(m.path).is_file():
            return None
        return parse_xml(Path(m.path).read_bytes(), m.name)

    def _expected_failures(
        self, process: Process, problems: list[Problem]
    ) -> list[write.ObjectResult]:
        """When a delivery cannot be read: every root the process still waits for fails."""
        errors = [(p.code, f"{p.path}: {p.reason}") for p in problems]
        roots = process.items.filter(parent=None, decision="A").exclude(delivered="stored")
        return [write.ObjectResult(o.idsgo, False, None, errors) for o in roots]

    # -- 0501 -------------------------------------------------------------------------------

    def _offer(self, h: Handled, path: Path, msg: Message, process: Process | None) -> Handled:
        try:
            roots = read_objects(msg.root)
        except ObjectError as e:
            process = process or self._new_process(msg.process_id, msg.version, Process.REJECTED)
            return self._reject(h, path, process, msg, [Problem(path.name, e.reason, e.code)])
        sha = hashlib.sha256(msg.xml).hexdigest()
        if process is not None:
            prior = process.messages.filter(code="0501", direction="in", status="accepted").last()
            if prior is not None and prior.sha256 == sha:
                path.unlink()
                h.status = "duplicate"
                return h
            if prior is not None:
                return self._reject(
                    h,
                    path,
                    process,
                    msg,
                    [
                        Problem(
                            path.name,
                            N_(
                                "process {process} has an offer already (with other content); "
                                "a new offer needs a new ProzessID"
                            ).format(process=msg.process_id),
                            "process-exists",
                        )
                    ],
                )
        with transaction.atomic():
            if process is None:
                process = self._new_process(msg.process_id, msg.version, Process.OFFERED)
            else:  # an earlier offer under this ProzessID was refused: this one replaces it
                process.items.all().delete()
                process.state, process.version, process.error = Process.OFFERED, msg.version, ""
                process.updated = timezone.now()
                process.save()
            add_objects(process, roots)
            self._received(process, path, msg, "accepted", self._keep(process, path, msg))
        if self._flag(msg, "Empfangsbestaetigung"):
            self._send(h, process, "0504", write.receipt(msg.root, msg.version, "0504"))
        path.unlink()
        return h

    def _new_process(
        self, process_id: str, version: str, state: str, two_step: bool = False
    ) -> Process:
        t = timezone.now()
        return Process.objects.create(
            agency=self.agency,
            process_id=process_id,
            version=version,
            state=state,
            two_step=two_step,
            created=t,
            updated=t,
        )

    @staticmethod
    def _flag(msg: Message, name: str) -> bool:
        v = msg.root.findtext(f"{{{msg.ns}}}Kopf/{{{msg.ns}}}{name}")
        return (v or "").strip() in ("1", "true")

    # -- 0505 -------------------------------------------------------------------------------

    def _confirmation(
        self, h: Handled, path: Path, msg: Message, process: Process | None
    ) -> Handled:
        if process is None:
            return self._reject(
                h,
                path,
                None,
                msg,
                [
                    Problem(
                        path.name,
                        N_("no process {process} for this agency").format(process=msg.process_id),
                        "unknown-process",
                    )
                ],
            )
        if process.state not in AFTER_APPRAISAL:
            return self._reject(
                h,
                path,
                process,
                msg,
                [
                    Problem(
                        path.name,
                        N_(
                            "process {process} is {state}: no appraisal list was sent that "
                            "this could confirm"
                        ).format(process=msg.process_id, state=process.state),
                        "unexpected-message",
                    )
                ],
            )
        with transaction.atomic():
            self._received(process, path, msg, "accepted", self._keep(process, path, msg))
            if process.state == Process.APPRAISED:
                nothing = not process.items.filter(parent=None, decision="A").exists()
                process.state = Process.COMPLETED if nothing else Process.CONFIRMED
            process.updated = timezone.now()
            process.save(update_fields=["state", "updated"])
        path.unlink()
        return h

    # -- 0503 -------------------------------------------------------------------------------

    def _delivery(self, h: Handled, path: Path, msg: Message, process: Process | None) -> Handled:
        a = self.agency
        try:
            roots = read_objects(msg.root)
        except ObjectError as e:
            problems = [Problem(path.name, e.reason, e.code)]
            if process is None and a.two_step:
                process = self._new_process(
                    msg.process_id, msg.version, Process.REJECTED, two_step=True
                )
            results = [write.ObjectResult(i, False, None, [(e.code, e.reason)]) for i in e.ids]
            return self._reject(h, path, process, msg, problems, results)
        offered = process is not None and (
            process.two_step
            or process.messages.filter(code="0501", direction="in", status="accepted").exists()
        )
        if not offered:
            if not a.two_step:
                process = process or self._new_process(
                    msg.process_id, msg.version, Process.REJECTED
                )
                problem = Problem(
                    path.name,
                    N_(
                        "no offer (0501) with ProzessID {process} was received from {agency}, "
                        "and the agency is not set up for two-step deliveries"
                    ).format(process=msg.process_id, agency=a.name),
                    "unknown-process",
                )
                return self._reject(h, path, process, msg, [problem], _fail_all(roots, [problem]))
            if process is None:
                process = self._new_process(
                    msg.process_id, msg.version, Process.AWAITING, two_step=True
                )
            else:  # refused before (no offer); the agency now delivers in two steps
                process.two_step, process.state = True, Process.AWAITING
                process.version = msg.version
                process.save(update_fields=["two_step", "state", "version"])
        if process.two_step:
            add_objects(process, roots, decision="A", user=f"two-step ({a.code})")
        if write.is_3x(msg.version) and self._flag(msg, "Empfangsbestaetigung"):
            self._send(h, process, "0507", write.receipt(msg.root, msg.version, "0507"))
        decisions = dict(process.items.values_list("idsgo", "decision"))
        if not process.two_step and process.state not in AFTER_APPRAISAL:
            decisions = {k: "" for k in decisions}  # no appraisal has been sent yet
        ident = default_identifier(self.home.path)
        formats = {f.puid: f.extensions for f in ident.sigset.formats.values()}
        delivery = check_delivery(
            msg,
            roots,
            None if process.two_step else (lambda s: decisions.get(s.id)),
            lambda puid: formats.get(puid, []),
            a.name,
            self._appraisal_events(process),
        )
        faults = [p for ps in delivery.faults.values() for p in ps] + delivery.message_faults
        if faults and (not a.partial_takeover or not delivery.records):
            results = _fail_all(
                roots,
                faults,
                delivery.faults,
                "not taken over: a delivery is taken over whole or not at all, and it has faults",
            )
            self._mark(process, roots, results)
            return self._reject(h, path, process, msg, faults, results)
        stored: dict[str, str] = {}
        if delivery.records:
            req = IngestRequest(
                path=path,
                tenant=a.tenant.slug,
                fonds=a.fonds.code,
                user=self.user,
                source=f"{a.name} (xdomea process {process.process_id})",
                invalid_files=a.tenant.invalid_files,
            )
            try:
                result = Ingest(self.home, DjangoCatalog(), identifier=ident).run_transfer(
                    req, delivery.transfer(a.name)
                )
            except RejectedSIP as e:
                results = _fail_all(roots, e.problems)
                self._mark(process, roots, results)
                return self._reject(h, path, process, msg, e.problems, results)
            h.aips = [r.__dict__ for r in result.aips]
            taken = [s.id for r in delivery.roots if r.id not in delivery.faults for s in r.walk()]
            stored = stored_aids(a, taken)
        results = _results(roots, stored, delivery.faults)
        self._mark(process, roots, results)
        with transaction.atomic():
            copy = self._keep(process, path, msg)
            status = "partial" if faults else "accepted"
            self._received(process, path, msg, status, copy)
            wanted = process.items.filter(parent=None, decision="A")
            process.state = (
                Process.AWAITING
                if wanted.exclude(delivered="stored").exists()
                else Process.COMPLETED
            )
            process.error = "; ".join(f"{p.path}: {p.reason} [{p.code}]" for p in faults)
            process.updated = timezone.now()
            process.save(update_fields=["state", "error", "updated"])
        if faults:
            h.status = "partial"
        elif h.aips and all(x["status"] == "duplicate" for x in h.aips):
            h.status = "duplicate"  # delivered before: nothing stored twice, same AIDs
        else:
            h.status = "stored"
        h.errors += faults
        if self._flag(msg, "Importbestaetigung"):
            self._send(
                h,
                process,
                "0506",
                write.import_report(
                    msg.root, msg.version, results, self._flag(msg, "RueckmeldungArchivkennung")
                ),
            )
        msg.close()
        if faults:  # the roots that failed may be delivered again; the message is kept
            self._quarantine(
                h, path, faults, "Part of the xdomea delivery was refused (partial takeover)."
            )
            ProcessMessage.objects.filter(process=process, name=path.name, direction="in").update(
                quarantine=h.quarantine
            )
        else:
            path.unlink()
        return h

    def _appraisal_events(self, process: Process):
        """The archive's decision on each root as a PREMIS appraisal event in its AIP."""
        objs = {o.idsgo: o for o in process.items.filter(parent=None)}
        sent = process.messages.filter(code="0502", direction="out").last()

        def events(root: Sgo) -> tuple[list[AipEvent], list[Agent]]:
            o = objs.get(root.id)
            if o is None or process.two_step or not o.decided_at:
                return [], []
            agent = user_agent(o.decided_by or "magazin")
            detail = (
                f"appraised {o.decision} (archivwürdig) by {o.decided_by} in xdomea process "
                f"{process.process_id} ({o.decision_basis})"
                + (f"; appraisal list {sent.name} sent {sent.time.isoformat()}" if sent else "")
            )
            return [
                AipEvent(
                    new_ulid(),
                    "appraisal",
                    o.decided_at.astimezone(dt.UTC).isoformat(),
                    "success",
                    detail,
                    agents=[(agent.id_value, "implementer")],
                )
            ], [agent]

        return events

    @transaction.atomic
    def _mark(self, process: Process, roots: list[Sgo], results: list[write.ObjectResult]) -> None:
        """Note each delivered object's fate on the process (adding objects the offer did not
        list, with their parent's decision)."""
        add_objects(process, roots, inherit=True)
        groups: dict[tuple[str, str], list[str]] = {}  # few kinds of fate: one UPDATE each
        for r in results:
            fate = ("stored" if r.ok else "failed", "; ".join(text for _c, text in r.errors))
            groups.setdefault(fate, []).append(r.id)
        for (delivered, error), ids in groups.items():
            for i in range(0, len(ids), 500):
                process.items.filter(idsgo__in=ids[i : i + 500]).update(
                    delivered=delivered, error=error
                )


def _fail_all(
    roots: list[Sgo],
    problems: list[Problem],
    per_root: dict[str, list[Problem]] | None = None,
    others: str | None = None,
) -> list[write.ObjectResult]:
    """Every delivered object fails: its root's own faults, or the delivery's."""
    out = []
    attributed = {id(p) for ps in (per_root or {}).values() for p in ps}
    general = [(p.code, f"{p.path}: {p.reason}") for p in problems if id(p) not in attributed]
    for top in roots:
        own = (per_root or {}).get(top.id)
        if own:
            errors = [(p.code, f"{p.path}: {p.reason}") for p in own]
        elif others:
            errors = general + [("delivery-refused", others)]
        else:
            errors = general
        out.append(write.ObjectResult(top.id, False, None, errors))
        for s in list(top.walk())[1:]:
            out.append(
                write.ObjectResult(
                    s.id, False, None, [("root-failed", f"not taken over with {top.label}")]
                )
            )
    return out


def _results(
    roots: list[Sgo], stored: dict[str, str], faults: dict[str, list[Problem]]
) -> list[write.ObjectResult]:
    out = []
    for top in roots:
        if top.id in faults:
            out += _fail_all([top], [], faults)
            continue
        for s in top.walk():
            aid = stored.get(s.id)
            if aid is None:
                out.append(
                    write.ObjectResult(
                        s.id, False, None, [("not-stored", "not found after ingest")]
                    )
                )
            else:
                out.append(write.ObjectResult(s.id, True, aid))
    return out


def deliver(home: Home, agency: Agency, src: Path, user: str, name: str | None = None) -> Handled:
    """Put a message into the agency's inbox and handle it there, exactly as the poll would
    (an upload through the web or API, or a retry from quarantine)."""
    inbox = Path(agency.inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    name = name or src.name
    with _inbox_lock(home):  # a poll does not take the message from under us
        part = inbox / f".{name}.part"
        shutil.copyfile(src, part)
        target = inbox / name
        os.replace(part, target)
        return Desk(home, agency, user).handle(target)


def retry_quarantined(home: Home, entry: QuarantineEntry, user: str) -> Handled:
    """Handle a quarantined message again, as if it had just arrived in its agency's inbox
    (after the agency or an archivist corrected what was wrong). A refused message goes
    into a new quarantine entry; the old one is closed either way."""
    agency = Agency.objects.select_related("tenant", "fonds").get(
        tenant__slug=entry.request["tenant"], code=entry.request["agency"]
    )
    handled = deliver(home, agency, Path(entry.request["path"]), user)
    entry.status, entry.resolved, entry.resolved_by = "retried", timezone.now(), user
    entry.note = f"handled again: {handled.status}" + (
        f", new quarantine entry {handled.quarantine}" if handled.quarantine else ""
    )
    entry.save()
    return handled
