"""Access decisions on many units at once — the units ticked on a page, a whole fonds, every
hit of a search — as one background job with progress: one new version per AIP (through the
engine), the catalog following each. Run again after its worker ended, a job does not decide
twice: units decided the same way already are left as they are."""

from __future__ import annotations

import datetime as dt

from magazin.catalog.edit import publish
from magazin.catalog.models import Tenant, Unit
from magazin.core.config import Home
from magazin.core.i18n import N_

from . import services as acc

ACTIONS = ("release", "grant", "publish")


def check(
    tenant: Tenant, action: str, reason: str, reader: str = "", purpose: str = "",
    expires: dt.date | None = None,
) -> None:  # fmt: skip
    """Refuse a request before it is queued (the archivist hears of it at once)."""
    if action not in ACTIONS:
        raise acc.AccessError(N_("no such decision: {action!r}").format(action=action))
    acc.check_reason(reason)
    if action == "grant":
        acc.check_grant(tenant, reader, reason, purpose, expires)


def run(home: Home, tenant: Tenant, user: str, options: dict, progress) -> dict:
    """The decisions a job asks for; returns what the job reports."""
    aids = options["aids"]
    units: list[Unit] = []
    for i in range(0, len(aids), 500):
        units += Unit.objects.filter(tenant=tenant, aid__in=aids[i : i + 500]).select_related(
            "tenant", "fonds"
        )
    action, reason = options["action"], options["reason"]
    if action == "release":
        n = acc.release(units, user, reason, progress)
    elif action == "grant":
        n = acc.grant_many(units, options["reader"], user, reason, options["purpose"],
                           dt.date.fromisoformat(options["expires"]), progress)  # fmt: skip
    else:
        n = len(publish(home, units, user, reason, progress))
    return {"status": "done", "action": action, "units": len(units), "decisions": n}
