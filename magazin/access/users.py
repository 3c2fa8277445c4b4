"""Creating users: a user belongs to one tenant in one role; optionally with an API token."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from magazin.catalog.models import Tenant

from .models import Membership


class UserError(ValueError):
    pass


@transaction.atomic
def create_user(
    username: str, tenant: Tenant, role: str, password: str | None, token: bool = False
) -> dict:
    User = get_user_model()
    if role not in Membership.ROLES:
        raise UserError(f"role {role!r}: use one of {', '.join(Membership.ROLES)}")
    if not username or len(username) > 150:
        raise UserError("user name: 1-150 characters")
    if User.objects.filter(username=username).exists():
        raise UserError(f"user {username!r} exists already")
    user = User(username=username, is_staff=False, is_superuser=False)
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as e:
            raise UserError("password: " + " ".join(e.messages)) from None
        user.set_password(password)
    else:
        user.set_unusable_password()  # token-only (API) users, or a password set later
    user.save()
    Membership.objects.create(user=user, tenant=tenant, role=role)
    out = {"username": username, "tenant": tenant.slug, "role": role}
    if token:
        from rest_framework.authtoken.models import Token

        out["token"] = Token.objects.create(user=user).key
    return out
