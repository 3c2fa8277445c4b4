"""Validation of stored AIPs (`magazin formats validate`), and what the holdings' validation
says (`magazin formats validation`).

A file's validation lives in its AIP as a PREMIS validation event linked to the file; the
catalog's File row carries the last one for lists and counts. Validating again makes a new
version of an AIP only where a result changed (a validator added or updated), through the
engine's single change path."""

from __future__ import annotations

import contextlib
from collections import Counter

from django.db import transaction
from django.db.models import Count, Q, Sum

from magazin.catalog.models import File, Unit
from magazin.catalog.services import record_new_events, replace_files
from magazin.catalog.storage import archive_storage
from magazin.core.aip.builder import metadata_files, metadata_newfiles, read_aip
from magazin.core.config import Home
from magazin.core.formats.validators import Validation, validation_event
from magazin.core.formats.validators.pool import ValidatorPool
from magazin.core.i18n import N_
from magazin.core.ids import now, user_id
from magazin.core.records import name_agents, software_agent, user_agent
from magazin.core.storage.ocfl import VersionInfo

NOT_VALID = ("failure", "warning", "")


def validate_stored(home: Home, roots: list[Unit], user: str, progress=None) -> dict:
    """Validate every file of these AIPs again; a new version where a result changed."""
    storage = archive_storage(home)
    out = {"aips": len(roots), "files": 0, "changed": 0, "versions": [], "invalid": 0}
    if progress is not None:
        progress.start(len(roots), "validate")
    with ValidatorPool(home.validators) as pool:
        for root in roots:
            tenant = root.tenant.slug
            with storage.change(tenant, root.ocfl_id) as change:
                desc = read_aip(change.head)
                results = _validate_files(storage, pool, home, tenant, root.ocfl_id, desc.files)
                out["files"] += len(desc.files)
                changed = []
                for f in desc.files:
                    v = results[f.logical_path]
                    out["invalid"] += v.outcome == "failure"
                    if (v.outcome, v.detail) != (f.validation, f.validation_note):
                        ev, agent = validation_event(v, f.logical_path)
                        desc.events.append(ev)
                        name_agents(desc, agent)
                        f.validation, f.validation_note = v.outcome, v.detail
                        changed.append(f)
                if not changed:
                    if progress is not None:
                        progress.advance(1)
                    continue
                name_agents(desc, software_agent(), user_agent(user))
                files = metadata_newfiles(metadata_files(desc, {}))
                message = N_("{n} file(s) validated again with a changed result").format(
                    n=len(changed)
                )
                change.commit(files, VersionInfo(now(), message, user, user_id(user)),
                              action="validation",
                              details={"unit": root.aid, "files": len(changed)})  # fmt: skip
                with transaction.atomic():
                    replace_files(root, desc)
                    record_new_events(root, desc.events)
                out["changed"] += len(changed)
                out["versions"].append(root.aid)
            if progress is not None:
                progress.advance(1)
    if progress is not None:
        progress.done()
    return out


def _validate_files(storage, pool, home, tenant, ocfl_id, files) -> dict[str, Validation]:
    """Each file read from an intact copy (a temporary copy for S3) and validated; the pool's
    workers take several files of the AIP at once."""
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(storage.verified_file(tenant, ocfl_id, f.logical_path,
                                                            home.tmp)) for f in files]  # fmt: skip
        results = pool.validate_many([(fh.name, f.puid, f.mime)
                                      for fh, f in zip(opened, files, strict=True)])  # fmt: skip
    return {f.logical_path: v for f, v in zip(files, results, strict=True)}


def summary(units) -> dict:
    """Per format: files and how their validation came out; and every file not valid."""
    files = File.objects.filter(representation__unit__in=units)
    rows = (
        files.values("puid", "format_name")
        .annotate(
            files=Count("id"),
            bytes=Sum("size"),
            valid=Count("id", filter=Q(validation="success")),
            invalid=Count("id", filter=Q(validation="failure")),
            not_validated=Count("id", filter=Q(validation="warning")),
            unchecked=Count("id", filter=Q(validation="")),
        )
        .order_by("-files", "puid")
    )
    formats = [
        {"puid": r["puid"], "format": r["format_name"], "files": r["files"],
         "bytes": r["bytes"] or 0, "valid": r["valid"], "invalid": r["invalid"],
         "not_validated": r["not_validated"], "unchecked": r["unchecked"]}
        for r in rows
    ]  # fmt: skip
    not_valid = [
        {"aid": f.representation.unit.aid, "path": f.path,
         "representation": f.representation.name, "puid": f.puid,
         "outcome": f.validation or "unchecked", "messages": f.validation_note}
        for f in files.filter(validation__in=NOT_VALID)
        .select_related("representation__unit")
        .order_by("representation__unit__aid", "path")
    ]  # fmt: skip
    totals = Counter()
    for r in formats:
        for k in ("files", "valid", "invalid", "not_validated", "unchecked"):
            totals[k] += r[k]
    return {"totals": dict(totals), "formats": formats, "not_valid": not_valid}
