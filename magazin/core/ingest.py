"""The ingest pipeline: SIP -> staged, verified copies -> one OCFL object per record in every
replica location -> catalog. Atomic per AIP, idempotent per record.

A catalog is plugged in through `CatalogPort`; the engine itself knows no database. A run that
dies half-way leaves a recovery record (MAGAZIN_HOME/recovery) naming the ULIDs it planned, so
that the next run with the same SIP completes those objects instead of making new ones - and
journals them, if the killed run had not.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from .aip.builder import metadata_files, metadata_newfiles, read_aip, write_object
from .aip.model import Agent, AipDescription, AipEvent, AipFile, UnitNode
from .config import Home
from .evidence.journal import Touched, inventory_digest
from .formats.identify import Identifier, default_identifier
from .formats.validators import validation_event
from .formats.validators.pool import ValidateBeside, ValidatorPool
from .hashing import file_digest
from .i18n import N_
from .ids import child_ulid, new_ulid, now, ocfl_id_for, record_object_id, user_id
from .problems import Problem, ProblemList, RejectedSIP
from .records import software_agent, store_record, user_agent
from .sip import read_sip
from .sip.model import Record, Transfer
from .staging import (
    IdentifyBeside,
    Progress,
    StagedFile,
    claim,
    clean_stale,
    discard,
    stage_transfer,
    verify_copies,
)
from .storage.location import Location, sync_all
from .storage.ocfl import FolderObject, NewFile, OcflObject, VersionInfo
from .storage.store import Storage

BATCH_FILES = 500
UPLOADS = 8  # objects uploaded at once to a location that does not store by rename (S3)
BATCH_BYTES = 2 * 1024**3


@dataclass
class AccessionInfo:
    ulid: str
    number: str
    tenant: str
    fonds: str
    sip_name: str
    source: str
    created: str
    files: int = 0
    bytes: int = 0

    @property
    def ocfl_id(self) -> str:
        return record_object_id(self.tenant, "accession", self.ulid)


@dataclass
class Known:
    aid: str
    fingerprint: str
    accession: str | None


class CatalogPort(Protocol):
    def lookup_many(self, tenant: str, fonds: str, keys: list[str]) -> dict[str, Known]: ...

    def next_accession_number(self, tenant: str) -> str: ...

    def record_aips(
        self,
        aips: list[tuple[AipDescription, str]],
        locations: list[str],
        accession: AccessionInfo,
    ) -> object: ...

    def record_accession(self, acc: AccessionInfo) -> None: ...


@dataclass
class IngestRequest:
    path: Path
    tenant: str
    fonds: str
    table: Path | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    unlisted: str = "reject"
    user: str = "magazin"
    source: str | None = None
    invalid_files: str = "warn"  # the tenant's choice: warn (flag) | reject (quarantine)


@dataclass
class AipResult:
    aid: str
    status: str  # stored | duplicate
    files: int
    bytes: int


@dataclass
class IngestResult:
    status: str
    accession: str | None
    aips: list[AipResult]
    errors: list[Problem]
    warnings: list[Problem]

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "accession": self.accession,
            "aips": [a.__dict__ for a in self.aips],
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def fingerprint(dc: dict, extra: dict) -> str:
    blob = json.dumps({"dc": dc, "extra": extra}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def source_key(t: Transfer, rec: Record, staged: dict[str, StagedFile]) -> str:
    if rec.key:
        return rec.key
    if not t.one_aip:
        return f"table:{rec.row_path}:{staged[rec.files[0]].sha512}"
    lines = sorted(f"{staged[p].sha512}  {p}" for p in rec.files)
    return "manifest:" + hashlib.sha512("\n".join(lines).encode()).hexdigest()


def _accession_detail(acc: AccessionInfo, t: Transfer) -> str:
    """The detail of an AIP's accession event: which delivery, from whom."""
    values = {"number": acc.number, "sip": repr(t.name), "kind": t.kind, "table": t.table,
              "source": acc.source}  # fmt: skip
    if t.table and acc.source:
        text = N_("accession {number}: SIP {sip} ({kind}, table {table}), source {source}")
    elif t.table:
        text = N_("accession {number}: SIP {sip} ({kind}, table {table})")
    elif acc.source:
        text = N_("accession {number}: SIP {sip} ({kind}), source {source}")
    else:
        text = N_("accession {number}: SIP {sip} ({kind})")
    return text.format(**values)


def _with_ulids(node: UnitNode, root_ulid: str) -> UnitNode:
    return replace(
        node,
        ulid=child_ulid(root_ulid, node.key),
        children=[_with_ulids(c, root_ulid) for c in node.children],
    )


def place_object(loc: Location, tenant: str, src: OcflObject, built: bool) -> None:
    """The moment an object appears in a location: complete or not at all (a rename on a file
    system, the root inventory written last on S3). `built`: `src` was built for this run in
    staging and may be moved; otherwise it is another location's copy."""
    loc.store_object(tenant, src, move=built, sync=False)


@dataclass
class _Plan:
    """A record of the SIP that is not stored yet."""

    rec: Record
    key: str
    fingerprint: str
    files: list[StagedFile]
    nbytes: int


@dataclass
class _Placed:
    """An AIP of the current batch: built in staging (one folder per location) or found."""

    desc: AipDescription
    fingerprint: str
    nbytes: int
    staged: list[Path] | None
    existing: OcflObject | None


class Recovery:
    """ULIDs planned for the records of one SIP, kept until the catalog has them."""

    def __init__(self, home: Home, tenant: str, sip_key: str):
        self.path = home.recovery / tenant / f"{sip_key}.json"

    def load(self) -> dict | None:
        try:
            return json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def save(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), "utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class Ingest:
    """One ingest run (see module docstring)."""

    def __init__(
        self,
        home: Home,
        catalog: CatalogPort,
        progress: Progress | None = None,
        identifier: Identifier | None = None,
    ):
        self.home = home
        self.identifier = identifier
        self.catalog = catalog
        self.progress = progress or Progress()
        self.storage = Storage(home)
        self.locations = self.storage.replicas
        # each location that stores by renaming builds its objects in its own staging
        # folder; the others (S3) upload from the first build
        builders = [i for i, loc in enumerate(self.locations) if loc.stores_by_rename]
        self._builders = [self.locations[i] for i in builders] or self.locations[:1]
        self._build_of = [builders.index(i) if i in builders else 0
                          for i in range(len(self.locations))]  # fmt: skip
        self._beside = None
        self._validating: ValidateBeside | None = None

    def run(self, req: IngestRequest) -> IngestResult:
        self.home.tmp.mkdir(parents=True, exist_ok=True)
        from .eark.schemas import installed

        transfer = read_sip(
            req.path, req.table, req.mapping, req.unlisted, self.home.limits, tmp=self.home.tmp,
            eark_schemas=installed(self.home.path),
        )  # fmt: skip
        with transfer:
            return self._run(req, transfer)

    def run_transfer(self, req: IngestRequest, transfer: Transfer) -> IngestResult:
        """Ingest a Transfer another reader made (an xdomea 0503); closes it at the end."""
        self.home.tmp.mkdir(parents=True, exist_ok=True)
        with transfer:
            return self._run(req, transfer)

    @staticmethod
    def _object_folder(index: int) -> str:
        return f"objects/r{index}"

    def _staged_path(self, transfer: Transfer):
        """Each payload file is staged where it will lie in its object: no moves later."""
        place = {
            p: (self._object_folder(i), *r.place(p))
            for i, r in enumerate(transfer.records)
            for p in r.files
        }
        return lambda p: "{}/v1/content/representations/{}/data/{}".format(*place[p])

    def _run(self, req: IngestRequest, transfer: Transfer) -> IngestResult:
        work_id = new_ulid()
        for loc in self._builders:
            clean_stale(loc.staging_area())
        work_dirs = [loc.staging_area() / work_id for loc in self._builders]
        locks = [claim(d) for d in work_dirs]
        problems = ProblemList()
        try:
            metadata_folders = [
                f"{self._object_folder(i)}/v1/content/metadata/{sub}"
                for i in range(len(transfer.records))
                for sub in ("descriptive", "preservation")
            ]
            ident = self.identifier or default_identifier(self.home.path)
            # an engine that takes the head and tail bytes identifies from the copying pass,
            # in a thread beside it that may run on while the copies are verified
            beside = (
                IdentifyBeside(ident, len(transfer.files))
                if hasattr(ident, "identify_windows")
                else None
            )
            # each file is validated as soon as it is identified, beside the rest
            policy = self.home.validators
            validating = ValidateBeside(ValidatorPool(policy)) if policy.enabled else None
            if beside is not None and validating is not None:
                beside.then = validating.submit
            try:
                staged = stage_transfer(
                    transfer,
                    work_dirs,
                    problems,
                    self.progress,
                    self._staged_path(transfer),
                    metadata_folders,
                    beside,
                )
                problems.raise_if_any()
                t_digest = now()
                verify_copies(staged, problems, self.progress)
                problems.raise_if_any()
                t_fixity = t_ident = now()
                if beside is None:
                    self.progress.start(len(staged), "identify")
                    for sf in staged.values():
                        sf.ident = ident.identify(sf.copies[0])
                        if validating is not None:
                            validating.submit(sf)
                        self.progress.advance(1)
                    self.progress.done()
                    t_ident = now()
                else:
                    beside.release([staged[f] for r in transfer.records for f in r.files])
                self._beside = beside  # each batch of AIPs waits for its files
                self._validating = validating
                if validating is not None and req.invalid_files == "reject":
                    self._reject_invalid(list(staged.values()))
                result = self._store(
                    req,
                    transfer,
                    staged,
                    work_dirs,
                    {"digest": t_digest, "fixity": t_fixity, "ident": t_ident},
                    ident.agent,
                )
            except BaseException:
                if beside is not None:
                    beside.abort()
                raise
            finally:
                self._beside = self._validating = None
                if validating is not None:
                    validating.close()
            if beside is not None:
                beside.finish()
            return result
        finally:
            discard(work_dirs)
            for fd in locks:
                os.close(fd)

    def _reject_invalid(self, files: list[StagedFile]) -> None:
        """The tenant rejects SIPs with invalid files: every one of them named, nothing
        stored (waits for the identification and validation of all files first)."""
        if self._beside is not None:
            self._beside.wait_for(files)
        self._validating.wait_for(files)
        problems = ProblemList()
        for sf in files:
            if sf.validation.outcome == "failure":
                problems.add(
                    sf.path,
                    N_("not a valid {format}: {messages}").format(
                        format=sf.ident.format or sf.ident.puid, messages=sf.validation.detail
                    ),
                    "invalid-file",
                )
        problems.raise_if_any()

    # -- planning -------------------------------------------------------------------------

    def _store(
        self,
        req: IngestRequest,
        t: Transfer,
        staged: dict[str, StagedFile],
        work_dirs: list[Path],
        times: dict[str, str],
        ident_agent: str,
    ) -> IngestResult:
        plans: list[_Plan] = []
        problems = ProblemList()
        results: list[AipResult] = []
        accession_of_dupes = None
        keys = [source_key(t, rec, staged) for rec in t.records]
        known_keys = self.catalog.lookup_many(req.tenant, req.fonds, keys)
        for rec, key in zip(t.records, keys, strict=True):
            fp = fingerprint(rec.dc, rec.extra)
            known = known_keys.get(key)
            files = [staged[p] for p in rec.files]
            nbytes = sum(f.size for f in files)
            if known is not None:
                if known.fingerprint != fp:
                    problems.add(
                        rec.files[0] if len(rec.files) == 1 else t.name,
                        N_("already stored as {aid} with different metadata ({record})").format(
                            aid=known.aid, record=rec.label
                        ),
                        "conflicting-duplicate",
                    )
                else:
                    results.append(AipResult(known.aid, "duplicate", len(files), nbytes))
                    accession_of_dupes = accession_of_dupes or known.accession
                continue
            plans.append(_Plan(rec, key, fp, files, nbytes))
        problems.raise_if_any()
        # the recovery record is found by all records of the SIP, stored ones included, so
        # that a re-run after a kill finds the ULIDs and the accession it planned
        sip_key = hashlib.sha256((req.fonds + "\n" + "\n".join(sorted(keys))).encode()).hexdigest()
        recovery = Recovery(self.home, req.tenant, sip_key)
        jdata = recovery.load()
        if not plans and jdata is None:
            return IngestResult("duplicate", accession_of_dupes, results, [], t.warnings)
        if jdata is None:
            acc = AccessionInfo(
                new_ulid(),
                self.catalog.next_accession_number(req.tenant),
                req.tenant,
                req.fonds,
                t.name,
                req.source or t.info.get("Source-Organization", ""),
                now(),
            )
            jdata = {"accession": acc.__dict__, "records": {p.key: new_ulid() for p in plans},
                     "journal_since": self.storage.journal(req.tenant).head_seq()}  # fmt: skip
            recovery.save(jdata)
        elif any(p.key not in jdata["records"] for p in plans):
            for p in plans:
                jdata["records"].setdefault(p.key, new_ulid())
            recovery.save(jdata)
        acc = AccessionInfo(**jdata["accession"])
        acc.files = sum(len(p.files) for p in plans) + sum(r.files for r in results)
        acc.bytes = sum(p.nbytes for p in plans) + sum(r.bytes for r in results)
        for loc in self.locations:
            loc.ensure_root(req.tenant)
        batch: list[_Plan] = []
        size = 0
        self.progress.start(len(plans), "store")
        for plan in plans:
            batch.append(plan)
            size += plan.nbytes
            if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
                results += self._store_batch(
                    req, t, batch, jdata, acc, work_dirs, times, ident_agent
                )
                batch, size = [], 0
        if batch:
            results += self._store_batch(req, t, batch, jdata, acc, work_dirs, times, ident_agent)
        self.progress.done()
        # after a kill, the accession may be the one thing left to complete
        self._store_accession(acc, req.user)
        recovery.remove()
        status = "stored" if any(r.status == "stored" for r in results) else "duplicate"
        return IngestResult(status, acc.number, results, [], t.warnings)

    # -- writing --------------------------------------------------------------------------

    def _describe(
        self,
        req: IngestRequest,
        t: Transfer,
        rec: Record,
        key: str,
        ulid: str,
        files: list[StagedFile],
        acc: AccessionInfo,
        times: dict[str, str],
        ident_agent: str,
    ) -> AipDescription:
        tenant = req.tenant
        ocfl_id = ocfl_id_for(tenant, ulid)
        sw, user = software_agent(), user_agent(req.user)
        fido = Agent("software", ident_agent, ident_agent.split(" (")[0], "software")
        validators: dict[str, Agent] = {}
        aip_files = [
            AipFile(
                path=rec.place(f.path)[1],
                representation=rec.place(f.path)[0],
                size=f.size,
                sha512=f.sha512,
                puid=f.ident.puid,
                format_name=f.ident.format,
                format_version=f.ident.version,
                mime=f.ident.mime,
                basis=f.ident.basis,
                validation=f.validation.outcome if f.validation else "",
                validation_note=f.validation.detail if f.validation else "",
            )
            for f in files
        ]
        declared = sorted({alg for f in files for alg in f.declared})
        ident_warn = [f"{f.path}: {f.ident.warning}" for f in files if f.ident.warning]
        unknown = [f.path for f in files if f.ident.puid is None]
        title = (rec.dc.get("title") or [rec.label or t.name])[0]
        sw_id, user_id = sw.id_value, user.id_value
        events = [
            AipEvent(
                new_ulid(),
                "message digest calculation",
                times["digest"],
                "success",
                N_("SHA-512 of {n} file(s) computed while copying from the SIP").format(
                    n=len(files)
                ),
                agents=[(sw_id, "executing program")],
            ),
            AipEvent(
                new_ulid(),
                "fixity check",
                times["fixity"],
                "success",
                (
                    N_(
                        "every staged copy re-read and compared with the SHA-512 computed on "
                        "the way in; digests declared in the SIP ({algorithms}) compared"
                    )
                    if declared
                    else N_(
                        "every staged copy re-read and compared with the SHA-512 computed on "
                        "the way in"
                    )
                ).format(algorithms=", ".join(declared)),
                agents=[(sw_id, "executing program")],
            ),
            AipEvent(
                new_ulid(),
                "format identification",
                times["ident"],
                "warning" if (ident_warn or unknown) else "success",
                N_("PRONOM identification with {agent}").format(agent=ident_agent),
                "; ".join(
                    ident_warn + [N_("{path}: format unknown").format(path=p) for p in unknown]
                ),
                agents=[(fido.id_value, "executing program")],
            ),
            AipEvent(
                new_ulid(),
                "accession",
                acc.created,
                "success",
                _accession_detail(acc, t),
                agents=[(user_id, "implementer")],
            ),
            AipEvent(
                new_ulid(),
                "replication",
                now(),
                "success",
                N_("{n} copies written and verified: {locations}").format(
                    n=len(self.locations), locations=", ".join(loc.name for loc in self.locations)
                ),
                agents=[(sw_id, "executing program")],
            ),
        ]
        for f in files:
            if rec.check_format is not None and (msg := rec.check_format(f.path, f.ident)):
                events.append(
                    AipEvent(
                        new_ulid(),
                        "validation",
                        times["ident"],
                        "warning",
                        N_("identified format compared with the format the source declared"),
                        N_("{path}: {reason}").format(path=f.path, reason=msg),
                        agents=[(sw_id, "executing program")],
                    )
                )
        for f, af in zip(files, aip_files, strict=True):
            if f.validation is not None:
                ev, agent = validation_event(f.validation, af.logical_path)
                events.append(ev)
                validators.setdefault(agent.id_value, agent)
        events = rec.events + events
        warn = [w for w in t.warnings]
        events.append(
            AipEvent(
                new_ulid(),
                "ingestion",
                now(),
                "warning" if warn else "success",
                N_("ingested by {user} into fonds {fonds}").format(user=req.user, fonds=req.fonds),
                "; ".join(
                    N_("{path}: {reason}").format(path=w.path, reason=w.reason) for w in warn
                ),
                agents=[(sw_id, "executing program"), (user_id, "implementer")],
            )
        )
        sources = []
        if rec.source_metadata:
            name = rec.source_metadata[0]
            sources.append((f"metadata/descriptive/{name}", name.removesuffix(".xml")))
        sources += [(path, "source") for path in sorted(rec.more_metadata)]
        return AipDescription(
            ocfl_id=ocfl_id,
            tenant=tenant,
            ulid=ulid,
            fonds=req.fonds,
            title=title,
            dc=rec.dc,
            created=now(),
            files=aip_files,
            events=events,
            agents=[sw, user, fido, *validators.values(), *rec.agents],
            source_key=key,
            accession=acc.number,
            source_metadata=sources,
            extra=rec.extra,
            unit_type=rec.unit_type,
            root_files=rec.root_files,
            children=[_with_ulids(c, ulid) for c in rec.children],
            file_names=rec.file_names,
            representation_labels=rec.representation_labels,
        )

    def _store_batch(self, req, t, batch, jdata, acc, work_dirs, times, ident_agent):
        """Build, verify, flush and rename a batch of AIPs, then catalog each one."""

        version = VersionInfo(
            now(),
            f"Ingest of {t.name} (accession {acc.number})",
            req.user,
            user_id(req.user),
        )
        todo: list[_Placed] = []
        builds: list[tuple] = []  # (desc, content per location, metadata, folder per location)
        index = {id(r): i for i, r in enumerate(t.records)}
        for plan in batch:
            rec, files = plan.rec, plan.files
            ulid = jdata["records"][plan.key]
            existing = self._existing(req.tenant, ocfl_id_for(req.tenant, ulid))
            if existing is not None:
                # a killed earlier run put this object in place: complete it, don't redo it
                desc = read_aip(existing)
                todo.append(_Placed(desc, plan.fingerprint, plan.nbytes, None, existing))
                continue
            if self._beside is not None:  # identified beside the copying: wait for it
                self._beside.wait_for(files)
            if self._validating is not None:
                self._validating.wait_for(files)
            desc = self._describe(req, t, rec, plan.key, ulid, files, acc, times, ident_agent)
            source_md = {}
            if rec.source_metadata:
                source_md[f"metadata/descriptive/{rec.source_metadata[0]}"] = rec.source_metadata[1]
            source_md.update(rec.more_metadata)
            meta = metadata_newfiles(metadata_files(desc, source_md))
            objs = [wd / self._object_folder(index[id(rec)]) for wd in work_dirs]
            contents = [
                [
                    NewFile(
                        "representations/{}/data/{}".format(*rec.place(f.path)),
                        f.copies[i],
                        f.sha512,
                    )  # fmt: skip
                    for f in files
                ]
                for i in range(len(work_dirs))
            ]
            builds.append((desc, contents, meta, objs))
            todo.append(_Placed(desc, plan.fingerprint, plan.nbytes, objs, None))

        def build_in(i: int) -> None:
            for desc, contents, meta, objs in builds:
                write_object(objs[i], desc, contents[i], meta, version)

        # one thread per build: creating files and folders waits on the disk, not the CPU
        with ThreadPoolExecutor(len(work_dirs)) as pool:
            list(pool.map(build_in, range(len(work_dirs))))
        # The payload was verified byte for byte above. Metadata and inventories are written
        # from the very bytes their digests were computed from (short writes raise); reading
        # them back at once would only read the page cache, so it is not done. Locations
        # that upload (S3) go first, from the first build, before the renames move it.
        sync_all(self.locations)
        # what the journal will name: each AIP's v1/inventory.json, as built or as stored
        touched = [
            Touched(
                p.desc.ocfl_id,
                "v1",
                inventory_digest(p.existing, "v1")
                if p.existing is not None
                else file_digest(p.staged[0] / "v1" / "inventory.json", "sha256"),
            )
            for p in todo
        ]

        def place(p: _Placed, i: int) -> None:
            loc = self.locations[i]
            if loc.has_object(p.desc.tenant, p.desc.ocfl_id):
                return
            if p.staged is not None:
                built = FolderObject.open(p.staged[self._build_of[i]])
                place_object(loc, p.desc.tenant, built, loc.stores_by_rename)
            else:
                place_object(loc, p.desc.tenant, p.existing, False)

        # uploads first (their many small requests wait on the network: several at once),
        # then the renames, which move the build away
        uploads = [i for i, loc in enumerate(self.locations) if not loc.stores_by_rename]
        if uploads:
            with ThreadPoolExecutor(UPLOADS) as pool:
                for f in [pool.submit(place, p, i) for i in uploads for p in todo]:
                    f.result()
        for p in todo:
            for i, loc in enumerate(self.locations):
                if loc.stores_by_rename:
                    place(p, i)
        sync_all(self.locations)
        journal = self.storage.journal(req.tenant)
        since = int(jdata.get("journal_since", 0))
        new = [t for t, p in zip(touched, todo, strict=True)
               if p.existing is None or not journal.has(t.id, "v1", since)]  # fmt: skip
        if new:
            journal.append("ingest", req.user, new,
                           {"accession": acc.number, "sip": t.name,
                            "units": [p.desc.aid for p in todo]})  # fmt: skip
        self.catalog.record_aips(
            [(p.desc, p.fingerprint) for p in todo], [loc.name for loc in self.locations], acc
        )
        self.progress.advance(len(todo))
        return [AipResult(p.desc.aid, "stored", len(p.desc.files), p.nbytes) for p in todo]

    def _existing(self, tenant: str, ocfl_id: str) -> OcflObject | None:
        """An intact object a killed earlier run already put into place in some location."""
        for loc in self.locations:
            if loc.has_object(tenant, ocfl_id) and not loc.check(tenant, ocfl_id):
                return loc.open(tenant, ocfl_id)
        return None

    def _store_accession(self, acc: AccessionInfo, user: str) -> None:
        store_record(
            self.storage,
            kind="accession",
            tenant=acc.tenant,
            key=acc.ulid,
            fonds=acc.fonds,
            accession=acc.number,
            title=f"Zugang {acc.number}",
            dc={
                "title": [f"Zugang {acc.number}: {acc.sip_name}"],
                "identifier": [acc.number],
                "date": [acc.created[:10]],
            },
            fields={
                "ulid": acc.ulid,
                "number": acc.number,
                "tenant": acc.tenant,
                "fonds": acc.fonds,
                "sip_name": acc.sip_name,
                "source": acc.source,
                "created": acc.created,
                "files": acc.files,
                "bytes": acc.bytes,
            },
            user=user,
            event=(
                "accession",
                N_("Accession {number} of SIP {sip!r}").format(number=acc.number, sip=acc.sip_name),
            ),
            created=acc.created,
        )
        self.catalog.record_accession(acc)


__all__ = [
    "Ingest",
    "IngestRequest",
    "IngestResult",
    "CatalogPort",
    "AccessionInfo",
    "Known",
    "RejectedSIP",
]
