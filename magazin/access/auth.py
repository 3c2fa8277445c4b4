"""Login with lockout: after MAX_FAILURES failed attempts a user name is locked for
LOCK_MINUTES, whatever password is tried meanwhile (the correct one included)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.backends import ModelBackend
from django.db.models import F
from django.utils import timezone

from .models import LoginFailures

MAX_FAILURES = 5
LOCK_MINUTES = 15


def is_locked(username: str) -> bool:
    row = LoginFailures.objects.filter(username=username).first()
    return bool(row and row.locked_until and row.locked_until > timezone.now())


class LockoutBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        if is_locked(username):
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            LoginFailures.objects.filter(username=username).delete()
            return user
        row, _ = LoginFailures.objects.get_or_create(
            username=username, defaults={"count": 0, "last": timezone.now()}
        )
        LoginFailures.objects.filter(pk=row.pk).update(count=F("count") + 1, last=timezone.now())
        row.refresh_from_db()
        if row.count >= MAX_FAILURES:
            row.locked_until = timezone.now() + dt.timedelta(minutes=LOCK_MINUTES)
            row.save(update_fields=["locked_until"])
        return None
