"""The access log: who viewed which unit, downloaded which file or DIP, searched for what;
when, and by web or API. Operational state (database only), shown to the tenant's staff."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from magazin.catalog.services import iso

from .models import AccessLog

ACTIONS = ("view", "download", "dip", "search")


def _record(request, tenant: str, action: str, aid: str, path: str, via: str) -> None:
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    AccessLog.objects.create(
        time=timezone.now(),
        user=user,
        username=user.get_username() if user else "",
        tenant=tenant,
        action=action,
        aid=aid,
        path=path,
        via=via,
        address=request.META.get("REMOTE_ADDR", "")[:64],
    )


def log_access(request, unit, action: str, path: str = "", via: str = "web") -> None:
    """A view of a unit, or a download of one of its files or its DIP."""
    _record(request, unit.tenant.slug, action, unit.aid, path, via)


def log_search(request, tenant: str, query: str, via: str = "web") -> None:
    _record(request, tenant, "search", "", query[:1000], via)


def access_log(
    tenant: str | None,
    aid: str | None = None,
    user: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet:
    """The log of a tenant (or of all: None), newest first, narrowed to a unit, a user and
    days (both included, in the server's time zone)."""
    qs = AccessLog.objects.filter(tenant=tenant) if tenant else AccessLog.objects.all()
    if aid:
        qs = qs.filter(aid=aid)
    if user:
        qs = qs.filter(username=user)
    if since:
        qs = qs.filter(time__gte=_start_of(since))
    if until:
        qs = qs.filter(time__lt=_start_of(until + dt.timedelta(days=1)))
    return qs.order_by("-time", "-id")


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def log_dict(e: AccessLog) -> dict:
    return {"time": iso(e.time), "user": e.username, "action": e.action, "aid": e.aid or None,
            "path": e.path, "via": e.via}  # fmt: skip
