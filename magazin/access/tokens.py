"""API tokens: several per user, each with a name, stored as a SHA-256 digest only, shown
once when made; `Authorization: Token …` on the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from magazin.core.i18n import N_

from .models import ApiToken

# a token's last use is written at most this often (not on every request)
LAST_USED_EVERY = dt.timedelta(minutes=1)


class TokenError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user, name: str = "") -> tuple[ApiToken, str]:
    """A new token for the user; returns the record and the token (its only appearance)."""
    name = (name or "").strip() or _free_name(user)
    if len(name) > 100:
        raise TokenError(N_("token name: at most 100 characters"))
    token = secrets.token_hex(24)
    try:
        with transaction.atomic():
            t = ApiToken.objects.create(
                user=user, name=name, digest=digest(token), created=timezone.now()
            )
    except IntegrityError:
        raise TokenError(
            N_("{user} has a token named {name!r} already").format(user=user.username, name=name)
        ) from None
    return t, token


def _free_name(user) -> str:
    taken = set(
        ApiToken.objects.filter(user=user, revoked__isnull=True).values_list("name", flat=True)
    )
    n = 1
    while f"token-{n}" in taken:
        n += 1
    return f"token-{n}"


def revoke_token(user, name: str) -> ApiToken:
    t = ApiToken.objects.filter(user=user, name=name, revoked__isnull=True).first()
    if t is None:
        raise TokenError(
            N_("{user} has no token named {name!r}").format(user=user.username, name=name)
        )
    t.revoked = timezone.now()
    t.save(update_fields=["revoked"])
    return t


def user_named(username: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise TokenError(N_("no user {username!r}").format(username=username))
    return user


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token …`, against the digests of the tokens not revoked."""

    def authenticate_credentials(self, key):
        t = (
            ApiToken.objects.select_related("user")
            .filter(digest=digest(key), revoked__isnull=True)
            .first()
        )
        if t is None or not t.user.is_active:
            raise exceptions.AuthenticationFailed(N_("Invalid token."))
        now = timezone.now()
        if t.last_used is None or now - t.last_used > LAST_USED_EVERY:
            ApiToken.objects.filter(pk=t.pk).update(last_used=now)
        return (t.user, t)
