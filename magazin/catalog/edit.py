"""Correcting a unit's description: a new OCFL version of its AIP (Dublin Core, METS and PREMIS
rewritten, everything else carried over) with a "metadata modification" event naming who
changed which field from what to what; then the catalog, closure period and search index."""

from __future__ import annotations

from django.db import transaction

from magazin.core.aip.builder import metadata_files, metadata_newfiles, read_aip
from magazin.core.aip.model import AipEvent
from magazin.core.config import Home
from magazin.core.i18n import N_
from magazin.core.ids import new_ulid, now, user_id
from magazin.core.records import software_agent, user_agent
from magazin.core.storage.ocfl import VersionInfo
from magazin.core.storage.store import Change
from magazin.errors import Failure

from .models import Event, Unit
from .services import DERIVED, apply_closure, event_rows, unit_root
from .signals import described
from .storage import archive_storage

# the field that marks records as intended for publication (archive law opens them)
PUBLISHED = "zur Veröffentlichung bestimmt"


def edit_unit(
    home: Home,
    unit: Unit,
    user: str,
    *,
    title: str | None = None,
    dc: dict[str, list[str]] | None = None,
    extra: dict[str, str | None] | None = None,
    reason: str = "",
) -> dict:
    """Apply the changes (an `extra` value of None removes the field); nothing to change is
    not a new version. A reason, where given, is recorded with the event."""
    root = unit_root(unit)
    storage = archive_storage(home)
    if not storage.holders(root.tenant.slug, root.ocfl_id):
        raise Failure(N_("{aid}: no copy of its AIP found").format(aid=root.aid))
    # from reading the head version to the catalog: a second correction at the same time
    # waits and then builds on this one
    with storage.change(root.tenant.slug, root.ocfl_id) as change:
        return _edit(change, unit, root, user, title, dc, extra, reason)


def publish(home: Home, units: list[Unit], user: str, reason: str) -> list[dict]:
    """Mark units as intended for publication (a property of the records that opens them by
    law): a metadata modification of each, with the reason. Units marked already stay as
    they are; units ingested later are not marked by this."""
    if not reason.strip():
        raise Failure(N_("marking units for publication needs a reason"))
    return [
        edit_unit(home, u, user, extra={PUBLISHED: "ja"}, reason=reason)
        for u in units
        if (u.extra or {}).get(PUBLISHED) != "ja"
    ]


def _edit(change: Change, unit, root, user, title, dc, extra, reason="") -> dict:
    unit.refresh_from_db()  # as another correction may have left it
    desc = read_aip(change.head)
    target = desc
    if unit.pk != root.pk:
        ulid = unit.aid.rsplit("-", 1)[1]
        target = next((n for c in desc.children for n in c.walk() if n.ulid == ulid), None)
        if target is None:
            raise Failure(
                N_("{aid}: not found in the METS of {root}").format(aid=unit.aid, root=root.aid)
            )
    changes = []
    if title is not None and title.strip() and title != target.title:
        changes.append(_change("title", target.title, title))
        target.title = title
        target.dc = {**target.dc, "title": [title]}
    for el, values in (dc or {}).items():
        if target.dc.get(el, []) != values:
            changes.append(_change(f"dc:{el}", target.dc.get(el, []), values))
            target.dc = {**target.dc, el: values}
            if not values:
                del target.dc[el]
    for key, value in (extra or {}).items():
        old = target.extra.get(key)
        if value != old:
            changes.append(_change(key, old, value))
            target.extra = {k: v for k, v in target.extra.items() if k != key}
            if value is not None:
                target.extra[key] = value
    if not changes:
        return {"aid": unit.aid, "changed": [], "version": None}
    sw, usr = software_agent(), user_agent(user)
    event = AipEvent(
        new_ulid(),
        "metadata modification",
        now(),
        "success",
        (
            N_("description of {aid} corrected by {user}: {reason}")
            if reason
            else N_("description of {aid} corrected by {user}")
        ).format(aid=unit.aid, user=user, reason=reason),
        "; ".join(changes),
        agents=[(usr.id_value, "implementer"), (sw.id_value, "executing program")],
    )
    desc.events.append(event)
    known = {a.id_value for a in desc.agents}
    desc.agents += [a for a in (sw, usr) if a.id_value not in known]
    files = metadata_newfiles(metadata_files(desc, {}))
    version = VersionInfo(now(), f"Description of {unit.aid} corrected", user, user_id(user))
    head = change.commit(files, version)  # every copy gets the same new version
    with transaction.atomic():
        unit.title, unit.dc, unit.extra = target.title, target.dc, _catalog_extra(unit, target)
        apply_closure([unit])
        unit.save(update_fields=["title", "dc", "extra", *DERIVED])
        Event.objects.bulk_create(event_rows(root, [event]))
        described.send(None, units=[unit], new=False)
    return {"aid": unit.aid, "changed": changes, "version": head}


def _change(field: str, old, new) -> str:
    """One change as the event and the user read it: `Personenbezug: (empty) → "ja"`."""
    return N_("{field}: {old} → {new}").format(field=field, old=_shown(old), new=_shown(new))


def _shown(value) -> str:
    if value is None or value == "" or value == []:
        return N_("(empty)")
    if isinstance(value, list):
        return ", ".join(f'"{v}"' for v in value)
    return f'"{value}"'


def _catalog_extra(unit: Unit, target) -> dict:
    extra = dict(target.extra)
    if unit.parent_id is not None:  # child units keep their kind in the catalog
        extra["kind"] = unit.extra.get("kind", getattr(target, "kind", ""))
    return extra
