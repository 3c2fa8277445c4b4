"""The format register as a tenant sees it: Magazin's defaults with the tenant's own entries
over them; what the holdings hold, by format and risk; a tenant admin's change of an entry,
kept (who, when, before, after) as a new version of the tenant's OCFL object."""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import Count, Sum

from magazin.catalog.models import File, FormatRisk, Tenant
from magazin.catalog.services import CatalogError
from magazin.catalog.storage import archive_storage
from magazin.core.config import Home
from magazin.core.i18n import N_
from magazin.core.preservation.register import PLANS, RISKS, entry
from magazin.core.records import update_record

FIELD = "format:"  # the tenant record's field per changed register entry


def overrides(tenant: Tenant) -> dict[str, dict]:
    return {r.puid: {"risk": r.risk, "plan": r.plan, "note": r.note}
            for r in FormatRisk.objects.filter(tenant=tenant)}  # fmt: skip


def holdings_by_risk(tenant: Tenant, units=None) -> list[dict]:
    """`formats risk`: per format held, files, bytes, risk and plan (risk null: a format
    the register does not know)."""
    files = File.objects.filter(representation__unit__tenant=tenant)
    if units is not None:
        files = files.filter(representation__unit__in=units)
    rows = (files.values("puid", "format_name").annotate(files=Count("id"), bytes=Sum("size"))
            .order_by("-files", "puid"))  # fmt: skip
    own = overrides(tenant)
    out = []
    for r in rows:
        e = entry(r["puid"], own)
        out.append({
            "puid": r["puid"], "format": r["format_name"] or (e.name if e else None),
            "files": r["files"], "bytes": r["bytes"] or 0,
            "risk": e.risk if e else None, "plan": (e.plan or None) if e else None,
        })  # fmt: skip
    return out


def set_entry(
    home: Home,
    tenant: Tenant,
    puid: str,
    user: str,
    *,
    risk: str | None = None,
    plan: str | None = None,
    note: str | None = None,
) -> dict:
    """Change the tenant's entry for a PUID; returns {"puid", "before", "after", "changed"}."""
    if risk is not None and risk not in RISKS:
        raise CatalogError(
            N_("risk {risk!r}: one of {risks}").format(risk=risk, risks=", ".join(RISKS))
        )
    if plan and plan not in PLANS:
        raise CatalogError(
            N_("plan {plan!r}: one of {plans}").format(plan=plan, plans=", ".join(PLANS))
        )
    if not puid or not (puid.startswith(("fmt/", "x-fmt/"))):
        raise CatalogError(N_("{puid!r} is not a PRONOM PUID (fmt/… or x-fmt/…)").format(
            puid=puid))  # fmt: skip
    current = entry(puid, overrides(tenant))
    before = {"risk": current.risk, "plan": current.plan, "note": current.note} if current \
        else {"risk": None, "plan": "", "note": ""}  # fmt: skip
    after = dict(before)
    for k, v in (("risk", risk), ("plan", plan), ("note", note)):
        if v is not None:
            after[k] = v
    if after["risk"] is None:
        raise CatalogError(N_("{puid} is not in the register: give its --risk").format(puid=puid))
    if after == before:
        return {"puid": puid, "before": before, "after": after, "changed": False}
    said = "; ".join(f"{k}: {before[k]!r} → {after[k]!r}" for k in after if after[k] != before[k])
    update_record(
        archive_storage(home),
        kind="tenant",
        tenant=tenant.slug,
        key="tenant",
        fields={FIELD + puid: json.dumps(after, ensure_ascii=False, sort_keys=True)},
        user=user,
        event=("metadata modification",
               N_("Tenant {slug}: format register entry {puid} changed: {changes}").format(
                   slug=tenant.slug, puid=puid, changes=said)),
    )  # fmt: skip
    with transaction.atomic():
        FormatRisk.objects.update_or_create(tenant=tenant, puid=puid, defaults=after)
    return {"puid": puid, "before": before, "after": after, "changed": True}


def restore(tenant: Tenant, record: dict[str, str]) -> None:
    """The tenant's register entries as its OCFL object's record holds them (rebuild)."""
    FormatRisk.objects.filter(tenant=tenant).delete()
    rows = []
    for k, v in record.items():
        if k.startswith(FIELD) and v:
            d = json.loads(v)
            rows.append(FormatRisk(tenant=tenant, puid=k[len(FIELD):], risk=d["risk"],
                                   plan=d.get("plan") or "", note=d.get("note") or ""))  # fmt: skip
    FormatRisk.objects.bulk_create(rows)
