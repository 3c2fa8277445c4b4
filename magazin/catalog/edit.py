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
from magazin.core.records import name_agents, software_agent, user_agent
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
    action: str = "correction",
) -> dict:
    """Apply the changes (an `extra` value of None removes the field); nothing to change is
    not a new version. A reason, where given, is recorded with the event; `action` is what
    the journal calls it (an AFIS import: "import")."""
    root = unit_root(unit)
    return _edit_aip(home, root, [unit], user, title, dc, extra, reason, action)[0]


def publish(home: Home, units: list[Unit], user: str, reason: str, progress=None) -> list[dict]:
    """Mark units as intended for publication (a property of the records that opens them by
    law): a metadata modification of each, with the reason — one new version per AIP, for
    all its units marked at once. Units marked already stay as they are; units ingested
    later are not marked by this. Returns the units changed."""
    if not reason.strip():
        raise Failure(N_("marking units for publication needs a reason"))
    by_root: dict[int, tuple[Unit, list[Unit]]] = {}
    for u in units:
        if (u.extra or {}).get(PUBLISHED) != "ja":
            root = unit_root(u)
            by_root.setdefault(root.pk, (root, []))[1].append(u)
    if progress is not None:
        progress.start(len(by_root), "decide")
    out = []
    for root, members in by_root.values():
        done = _edit_aip(home, root, members, user, None, None, {PUBLISHED: "ja"}, reason,
                         "access decision")  # fmt: skip
        out += [d for d in done if d["changed"]]
        if progress is not None:
            progress.advance(1)
    return out


def _edit_aip(home: Home, root: Unit, units: list[Unit], user, title, dc, extra, reason,
              action: str = "correction"):  # fmt: skip
    storage = archive_storage(home)
    if not storage.holders(root.tenant.slug, root.ocfl_id):
        raise Failure(N_("{aid}: no copy of its AIP found").format(aid=root.aid))
    # from reading the head version to the catalog: a second correction at the same time
    # waits and then builds on this one
    with storage.change(root.tenant.slug, root.ocfl_id) as change:
        return _edit(change, units, root, user, title, dc, extra, reason, action)


def _edit(change: Change, units: list[Unit], root, user, title, dc, extra, reason,
          action: str = "correction") -> list[dict]:  # fmt: skip
    """The same changes to each of the units of one AIP, in one new version."""
    desc = read_aip(change.head)
    sw, usr = software_agent(), user_agent(user)
    done: list[tuple[Unit, object, list[str], AipEvent | None]] = []
    for unit in units:
        unit.refresh_from_db()  # as another correction may have left it
        target = desc
        if unit.pk != root.pk:
            ulid = unit.aid.rsplit("-", 1)[1]
            target = next((n for c in desc.children for n in c.walk() if n.ulid == ulid), None)
            if target is None:
                raise Failure(
                    N_("{aid}: not found in the METS of {root}").format(aid=unit.aid, root=root.aid)
                )
        changes = _apply(target, title, dc, extra)
        event = None
        if changes:
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
        done.append((unit, target, changes, event))
    changed = [(u, t, e) for u, t, c, e in done if c]
    head = None
    if changed:
        name_agents(desc, sw, usr)
        files = metadata_newfiles(metadata_files(desc, {}))
        said = ", ".join(u.aid for u, _t, _e in changed[:3]) + (", …" if len(changed) > 3 else "")
        version = VersionInfo(now(), f"Description of {said} corrected", user, user_id(user))
        head = change.commit(files, version, action=action,  # every copy the same
                             details={"units": [u.aid for u, _t, _e in changed],
                                      "reason": reason or ""})  # fmt: skip
        with transaction.atomic():
            for unit, target, _e in changed:
                unit.title, unit.dc = target.title, target.dc
                unit.extra = _catalog_extra(unit, target)
            apply_closure([u for u, _t, _e in changed])
            for unit, _t, _e in changed:
                unit.save(update_fields=["title", "dc", "extra", *DERIVED])
            Event.objects.bulk_create(event_rows(root, [e for _u, _t, e in changed]))
            described.send(None, units=[u for u, _t, _e in changed], new=False)
    return [{"aid": u.aid, "changed": c, "version": head if c else None} for u, _t, c, _e in done]


def _apply(target, title, dc, extra) -> list[str]:
    """Change the description in place; returns the changes as the event names them."""
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
    return changes


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
