"""A plan applied to one AIP: its newest representation's files that the plan takes are
migrated, checked, identified and validated; the result is a new, complete representation
`preservation-N` (the files the plan does not touch carried over: OCFL keeps their bytes
once), with a PREMIS migration event per file (the tool and its version as agent), a
derivation relationship from each new file to its source, and the new files' identification
and validation events. Any failed conversion or check leaves the AIP as it was."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..aip.model import Agent, AipDescription, AipEvent, AipFile, representation_order
from ..formats.identify import Identifier
from ..formats.validators import Validation, validation_event
from ..formats.validators.pool import ValidatorPool
from ..hashing import file_digest
from ..i18n import N_
from ..ids import new_ulid, now
from ..records import name_agents, software_agent, user_agent
from ..storage.ocfl import NewFile
from . import checks
from .convert import ConversionFailed, convert
from .plans import PLANS, Plan, tool_version


@dataclass
class Migration:
    """What a plan did to one AIP: the new version's files (when anything was migrated) and
    the files that could not be migrated, with why."""

    migrated: list[tuple[str, str]] = field(default_factory=list)  # (source path, result path)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    files: list[NewFile] = field(default_factory=list)
    representation: str = ""


def newest_representation(desc: AipDescription) -> str:
    """The representation a plan works from: the newest preservation one, else the original."""
    return max({f.representation for f in desc.files}, key=representation_order,
               default="original")  # fmt: skip


def candidates(desc: AipDescription, plan: Plan) -> list[AipFile]:
    """The files of the newest representation the plan takes (none: nothing to do) - not
    the results of a plan with the same target, which may be of a format it takes (a PDF/A
    that identification names as plain PDF): a plan run twice migrates nothing the second
    time, and a PDF/A made from a DOCX is not made again from itself."""
    rep = newest_representation(desc)
    by_path = {f.logical_path: f.sha512 for f in desc.files}
    same_target = [p.name for p in PLANS.values() if p.target_puid == plan.target_puid]
    made = {by_path.get(ev.objects[-1]) for ev in desc.events
            if ev.type == "migration" and ev.objects
            and any(ev.detail.startswith(f"plan {name}:") for name in same_target)}  # fmt: skip
    return [f for f in desc.files if f.representation == rep and f.puid in plan.sources
            and f.sha512 not in made]  # fmt: skip


def _target_path(path: str, suffix: str, taken: set[str]) -> str:
    p = PurePosixPath(path)
    new = str(p.with_suffix(suffix)) if p.suffix else path + suffix
    if new == path:  # a PDF made a PDF/A: it takes the place of its source
        return new
    if new in taken:  # "rede.pdf" is there already: "rede (doc).pdf"
        new = str(p.with_name(f"{p.stem} ({p.suffix.lstrip('.')}){suffix}"))
    return new


def check_result(
    plan: Plan, source: Path, name: str, mime: str | None, puid: str | None, result: Path,
    work: Path, pool: ValidatorPool,
) -> tuple[Validation, str | None]:  # fmt: skip
    """The result's validation, and why it fails the plan (the first failed check; None:
    it passes them all)."""
    validation = pool.validate(str(result), plan.target_puid, plan.target_mime)
    if validation.outcome != "success":
        return validation, N_("the result does not validate: {detail}").format(
            detail=validation.detail)  # fmt: skip
    for check in plan.checks:
        reason = None
        if check == "words":
            reason = checks.words(source, name, mime, puid, result, work / "words")
        elif check == "pages":
            reason = checks.pages(source, result, work / "render")
        elif check == "pixels":
            reason = checks.pixels(source, result)
        elif check == "frames":
            reason = checks.frames(source, result)
        if reason is not None:
            return validation, reason
    return validation, None


def migrate(
    desc: AipDescription,
    plan: Plan,
    read: Callable[[AipFile], contextlib.AbstractContextManager[Path]],
    work: Path,
    profile: Path,
    pool: ValidatorPool,
    identifier: Identifier,
    user: str,
    timeout: float = 600,
) -> Migration:
    """Apply `plan` to the AIP described by `desc` (changed in place only when every file
    the plan takes was migrated and checked). `read(file)` gives a local path to a file's
    verified bytes."""
    out = Migration()
    todo = candidates(desc, plan)
    if not todo:
        return out
    source_rep = newest_representation(desc)
    rep = f"preservation-{representation_order(source_rep)[1] + 1}"
    taken = {f.path for f in desc.files if f.representation == source_rep}
    results: dict[str, tuple[Path, str, object, object]] = {}
    for i, f in enumerate(todo):
        w = work / f"f{i}"
        try:
            with read(f) as src:
                result = convert(plan, src, w, profile, timeout)
                validation, reason = check_result(plan, src, f.path, f.mime, f.puid, result,
                                                  w, pool)  # fmt: skip
        except ConversionFailed as e:
            reason = N_("conversion failed: {error}").format(error=e)
        except OSError as e:
            reason = N_("cannot read the file: {error}").format(error=e)
        if reason is not None:
            out.failed.append((f.path, reason))
            continue
        new_path = _target_path(f.path, plan.suffix, taken)
        taken.add(new_path)
        results[f.path] = (result, new_path, validation, identifier.identify(result))
    if out.failed:
        return out  # the AIP stays as it was
    tool = tool_version(plan.tool)
    tool_agent = Agent("software", tool, tool, "software")
    sw, usr = software_agent(), user_agent(user)
    ident_agent = getattr(identifier, "agent", "identification")
    fido = Agent("software", ident_agent, ident_agent.split(" (")[0], "software")
    when = now()
    new_files: list[AipFile] = []
    for f in [f for f in desc.files if f.representation == source_rep]:
        if f.path not in results:  # carried over: the same bytes, held once by OCFL
            carried = AipFile(**{**f.__dict__, "representation": rep})
            new_files.append(carried)
            out.files.append(NewFile(carried.logical_path, None, f.sha512))
            continue
        result, new_path, validation, ident = results[f.path]
        sha = file_digest(result, "sha512")
        nf = AipFile(path=new_path, representation=rep, size=result.stat().st_size, sha512=sha,
                     puid=ident.puid, format_name=ident.format, format_version=ident.version,
                     mime=ident.mime, basis=ident.basis, validation=validation.outcome,
                     validation_note=validation.detail, derived_from=f.logical_path)  # fmt: skip
        new_files.append(nf)
        out.files.append(NewFile(nf.logical_path, result, sha, move=False))
        out.migrated.append((f.path, new_path))
        desc.events.append(AipEvent(
            new_ulid(), "migration", when, "success",
            N_("plan {plan}: {source} migrated to {target} ({format})").format(
                plan=plan.name, source=f.logical_path, target=nf.logical_path,
                format=plan.target),
            N_("checks passed: {checks}").format(checks=", ".join(plan.checks)),
            agents=[(tool_agent.id_value, "executing program"), (usr.id_value, "implementer")],
            objects=[f.logical_path, nf.logical_path],
        ))  # fmt: skip
        desc.events.append(AipEvent(
            new_ulid(), "format identification", when,
            "success" if ident.puid else "warning",
            N_("PRONOM identification with {agent}").format(agent=ident_agent),
            ident.warning or "", agents=[(fido.id_value, "executing program")],
            objects=[nf.logical_path],
        ))  # fmt: skip
        ev, agent = validation_event(validation, nf.logical_path)
        desc.events.append(ev)
        name_agents(desc, agent)
    desc.files += new_files
    name_agents(desc, sw, usr, tool_agent, fido)
    out.representation = rep
    return out
