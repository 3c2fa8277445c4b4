"""The access log: who viewed which unit or downloaded which file, when, by web or API."""

from __future__ import annotations

from django.utils import timezone

from .models import AccessLog


def log_access(request, unit, action: str, path: str = "", via: str = "web") -> None:
    user = request.user if getattr(request.user, "is_authenticated", False) else None
    AccessLog.objects.create(
        time=timezone.now(),
        user=user,
        username=user.get_username() if user else "",
        tenant=unit.tenant.slug,
        action=action,
        aid=unit.aid,
        path=path,
        via=via,
        address=request.META.get("REMOTE_ADDR", "")[:64],
    )
