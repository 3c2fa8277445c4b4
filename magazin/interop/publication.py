"""What an archive may publish of its descriptions (finding aids, OAI-PMH), as archive law
has it: a unit whose records are open - closure period over, or released - is published in
full; so is one under the general closure period alone (the records are closed, their
description is not). A unit under a closure period for persons or for secrecy is left out,
or, where the tenant chose `reduced`, shown with level, signature and date range only. The
parts of a unit that is not published in full are left out with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from magazin.access.closure import PROFILES, params_from, protects_persons_or_secrets
from magazin.access.models import Release
from magazin.catalog.models import Fonds, Unit
from magazin.catalog.services import is_open

FULL, REDUCED = "full", "reduced"


@dataclass
class Published:
    unit: Unit
    mode: str  # FULL | REDUCED
    open: bool  # its records are open to everyone: only then does it link to them
    children: list[Published]


def publication(unit: Unit, day: dt.date, released: bool | None = None) -> str | None:
    """FULL, REDUCED or None (left out) for this unit's description on `day`."""
    if is_open(unit, day, released):
        return FULL
    params = params_from(unit.dc, unit.extra)
    if not protects_persons_or_secrets(params, PROFILES[unit.tenant.closure_profile], day):
        return FULL
    return REDUCED if unit.tenant.closed_descriptions == REDUCED else None


def published_tree(fonds: Fonds, day: dt.date) -> tuple[list[Published], int]:
    """The fonds' units that may be published, as a tree in signature order, and how many
    were left out (with their parts)."""
    released = Exists(Release.objects.filter(unit=OuterRef("pk"), withdrawn__isnull=True))
    units = (Unit.objects.filter(fonds=fonds).select_related("tenant")
             .annotate(released=released).order_by("signature_key", "date_key", "aid"))  # fmt: skip
    children: dict[int | None, list[Unit]] = {}
    for u in units.iterator(chunk_size=2000):
        children.setdefault(u.parent_id, []).append(u)
    left_out = 0

    def walk(parent: int | None) -> Iterator[Published]:
        nonlocal left_out
        for u in children.get(parent, []):
            mode = publication(u, day, u.released)
            if mode is None:
                left_out += 1 + _count(u.pk)
                continue
            kids = list(walk(u.pk)) if mode == FULL else []
            if mode != FULL:
                left_out += _count(u.pk)
            yield Published(u, mode, is_open(u, day, u.released), kids)

    def _count(pk: int) -> int:
        return sum(1 + _count(c.pk) for c in children.get(pk, []))

    return list(walk(None)), left_out


def count(tree: list[Published], mode: str | None = None) -> int:
    return sum((mode is None or p.mode == mode) + count(p.children, mode) for p in tree)
